from services.common.migrate import run_env
from services.notices.models import Base

run_env(Base.metadata)
