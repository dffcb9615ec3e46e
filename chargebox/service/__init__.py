"""The daemon as a systemd service: readiness and watchdog (notify), journal logging, the local
control socket behind ``chargebox status`` and ``chargebox queue``, soft and hard reset, and the
installer for a box or an OEM image (README, "Running as a service").

Nothing in the engine imports this package; what the engine needs for logging is in
:mod:`chargebox.logfields`.
"""
