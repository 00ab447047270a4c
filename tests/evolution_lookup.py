"""Evolution's account lookup for each address given: ``python3 evolution_lookup.py ADDRESS…``.

Calls ``e_mail_autoconfig_new_sync`` of Evolution's mail library (Debian 12's ``libevolution``)
through ctypes, as Evolution's account assistant does when someone types an address, and prints
what it found with the library's own ``e_mail_autoconfig_dump_results`` (``IMAP: user@host:port``
and ``SMTP: …`` after ``Results for <address>``), or ``Error for <address>: message``.

Run by :mod:`tests.evolution` inside a D-Bus session (the library needs Evolution's source
registry) and a mount namespace; only the standard library here, so any ``python3`` runs it.
"""

from __future__ import annotations

import ctypes
import sys

EDATASERVER = "libedataserver-1.2.so.27"
MAIL = "/usr/lib/evolution/libevolution-mail.so.0"


class GError(ctypes.Structure):
    _fields_ = (("domain", ctypes.c_uint32), ("code", ctypes.c_int), ("message", ctypes.c_char_p))


def main(addresses: list[str]) -> int:
    edataserver = ctypes.CDLL(EDATASERVER)
    mail = ctypes.CDLL(MAIL)
    edataserver.e_source_registry_new_sync.restype = ctypes.c_void_p
    edataserver.e_source_registry_new_sync.argtypes = (ctypes.c_void_p, ctypes.c_void_p)
    mail.e_mail_autoconfig_new_sync.restype = ctypes.c_void_p
    mail.e_mail_autoconfig_new_sync.argtypes = (
        (ctypes.c_void_p,)
        + (ctypes.c_char_p,) * 2
        + (
            ctypes.c_void_p,
            ctypes.c_void_p,
        )
    )
    mail.e_mail_autoconfig_dump_results.argtypes = (ctypes.c_void_p,)
    error = ctypes.POINTER(GError)()
    registry = edataserver.e_source_registry_new_sync(None, ctypes.byref(error))
    if not registry:
        print(f"Error for the registry: {error.contents.message!r}", flush=True)
        return 2
    for address in addresses:
        error = ctypes.POINTER(GError)()
        found = mail.e_mail_autoconfig_new_sync(
            registry, address.encode(), None, None, ctypes.byref(error)
        )
        if found:
            mail.e_mail_autoconfig_dump_results(found)  # g_print: stdout, flushed by GLib
        else:
            message = error.contents.message.decode(errors="replace") if error else "no error"
            print(f"Error for <{address}>: {message}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
