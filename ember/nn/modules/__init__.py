"""The layers of ``ember.nn``: Module, containers, and every built-in layer and loss."""
from .module import Module
