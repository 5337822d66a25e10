"""Events published by ``services/lending``."""
from marshmallow import fields

from . import Envelope, register
