"""Events published by ``services/complaints``."""
from marshmallow import fields

from . import Envelope, register
