from services.common.migrate import run_env
from services.staff.models import Base

run_env(Base.metadata)
