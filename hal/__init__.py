"""Hardware abstraction: typed device interfaces and the drivers behind them.

The HAL turns wires into typed events (:mod:`hal.events`) and typed commands into wire traffic.
It knows IEC 61851 pilot states, Modbus registers and serial frames; it knows nothing of OCPP.
It imports neither ``chargebox`` nor ``hwsim`` (DESIGN.md, "The house").
"""
