"""Events published by ``services/cases``."""
from marshmallow import fields

from . import Envelope, register
