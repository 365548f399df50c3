"""Custom Rasa components of The Detox Center of Los Angeles assistant."""
