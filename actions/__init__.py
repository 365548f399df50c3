"""Custom actions for the Detox Center of Los Angeles assistant."""
