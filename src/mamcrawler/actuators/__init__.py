"""Actuators: carry decided actions out — live (adapters) or simulated (a world copy)."""
