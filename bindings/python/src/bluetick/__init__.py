"""placeholder"""
from .bluetick import *  # noqa
