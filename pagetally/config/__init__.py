"""`pagetally.conf`: the directive table (config/table.py, and the kind of each
directive's value for mypy in config/names.py), reading and checking the files
(config/loading.py, over the one INI reader pagetally/ini.py), and the loaded
`Config` with its typed settings (config/values.py). Import from here.
"""

from pagetally.config.loading import (
    ADMIN_FILE_NAME,
    DEFAULT_PATH,
    ENV_VAR,
    PYKOTA_ADMIN_FILE_NAME,
    config_path,
    load_config,
)
from pagetally.config.table import DIRECTIVES, PYKOTA_FORMS, PYKOTA_ONLY, Directive
from pagetally.config.values import Config, PrinterConfig

__all__ = [
    "ADMIN_FILE_NAME",
    "DEFAULT_PATH",
    "DIRECTIVES",
    "ENV_VAR",
    "PYKOTA_ADMIN_FILE_NAME",
    "PYKOTA_FORMS",
    "PYKOTA_ONLY",
    "Config",
    "Directive",
    "PrinterConfig",
    "config_path",
    "load_config",
]
