"""Linli 邻里: renewal and governance of old residential compounds."""
