"""Maintenance from the Central System: firmware updates (5.15 UpdateFirmware) and diagnostics
(5.7 GetDiagnostics), both over FTP or FTPS as chapter 8 prescribes ("Firmware download",
"Diagnostics upload").

- :mod:`.location` parses and checks the ftp:// and ftps:// URLs, and masks their passwords;
- :mod:`.ftp` moves files over a slow, flaky link: streamed, resumed after an interruption, retried;
- :mod:`.firmware` schedules, downloads, verifies and installs a firmware update;
- :mod:`.diagnostics` collects the box's logs and state into one file and uploads it;
- :mod:`.status` tells the Central System how they went, without losing a notification offline.
"""
