"""Offline power tuning: the function in one execution environment per memory setting, with
Lambda's CPU share, then Lambda's prices and power tuning's strategies pick a setting.

`sandbox.tuning.pricing` is the one place for prices and setting names (``bench/`` uses it too).
"""

from __future__ import annotations

from sandbox.tuning.pricing import ARCH_PRICES, REQUEST_PRICE, TUNE_SETTINGS, invocation_cost
from sandbox.tuning.runner import SettingResult, TuneError, parse_settings, tune
from sandbox.tuning.strategies import STRATEGIES, Pick, pick, trimmed_mean

__all__ = [
    "ARCH_PRICES",
    "REQUEST_PRICE",
    "STRATEGIES",
    "TUNE_SETTINGS",
    "Pick",
    "SettingResult",
    "TuneError",
    "invocation_cost",
    "parse_settings",
    "pick",
    "trimmed_mean",
    "tune",
]
