"""multiview: ensembles, knowledge distillation and self-distillation on multi-view data."""
__version__ = "0.1.0"
