"""The emulated Azure side (Flask): AML Studio (classic) BES, RRS and management, Resource Manager, Azure AD,
on Azurite. Installed as ``adfemu.emulator``; imports ``adfemu.schemas`` only, never the runner."""
