"""MiniCRM Desktop: customers, segments and campaigns for marketers."""

__version__ = "0.1.0"
APP_NAME = "MiniCRM"
APP_ORG = "MiniCRM"
