"""Deployment: launch scripts, the load balancer config generator, container and Kubernetes files."""
