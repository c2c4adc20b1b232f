"""asr-preflight: Azure Site Recovery (Azure-to-Azure) prerequisite checks for a whole estate."""

__version__ = "0.1.0"
