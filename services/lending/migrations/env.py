from services.common.migrate import run_env
from services.lending.models import Base

run_env(Base.metadata)
