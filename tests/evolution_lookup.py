"""Evolution's account lookup for each address given: ``python3 evolution_lookup.py ADDRESS…``.

Calls ``e_mail_autoconfig_new_sync`` of Evolution's mail library (Debian 12's ``libevolution``)
through ctypes, as Evolution's account assistant does when someone types an address, then has the
library fill in a new IMAP account and SMTP transport with what it found
(``e_mail_autoconfig_set_imap_details``, ``…_smtp_details``) and prints each as Evolution would
store it (``e_source_to_string``: a key file with its ``[Authentication]`` and ``[Security]``
groups), after a line ``=== <address> imap`` or ``=== <address> smtp``; ``=== <address> error:
message`` when the lookup failed, ``=== <address> imap: none`` when it found no such server.

Run by :mod:`tests.evolution` inside a D-Bus session (the library needs Evolution's source
registry) and a mount namespace; only the standard library here, so any ``python3`` runs it.
"""

from __future__ import annotations

import ctypes
import sys

EDATASERVER = "libedataserver-1.2.so.27"
MAIL = "/usr/lib/evolution/libevolution-mail.so.0"
KINDS = {"imap": b"Mail Account", "smtp": b"Mail Transport"}
"""Each server kind and the extension of the source the library fills in for it."""

P = ctypes.c_void_p


class GError(ctypes.Structure):
    _fields_ = (("domain", ctypes.c_uint32), ("code", ctypes.c_int), ("message", ctypes.c_char_p))


def _declare(edataserver: ctypes.CDLL, mail: ctypes.CDLL) -> None:
    signatures = (
        (edataserver.e_source_registry_new_sync, P, (P, P)),
        (edataserver.e_source_new, P, (P, P, P)),
        (edataserver.e_source_get_extension, P, (P, ctypes.c_char_p)),
        (edataserver.e_source_to_string, ctypes.c_char_p, (P, P)),
        (mail.e_mail_autoconfig_new_sync, P, (P, ctypes.c_char_p, ctypes.c_char_p, P, P)),
        (mail.e_mail_autoconfig_set_imap_details, ctypes.c_int, (P, P)),
        (mail.e_mail_autoconfig_set_smtp_details, ctypes.c_int, (P, P)),
    )
    for function, result, arguments in signatures:
        function.restype = result
        function.argtypes = arguments


def main(addresses: list[str]) -> int:
    edataserver = ctypes.CDLL(EDATASERVER)
    mail = ctypes.CDLL(MAIL)
    _declare(edataserver, mail)
    error = ctypes.POINTER(GError)()
    registry = edataserver.e_source_registry_new_sync(None, ctypes.byref(error))
    if not registry:
        print(f"=== <registry> error: {error.contents.message!r}", flush=True)
        return 2
    for address in addresses:
        error = ctypes.POINTER(GError)()
        found = mail.e_mail_autoconfig_new_sync(
            registry, address.encode(), None, None, ctypes.byref(error)
        )
        if not found:
            message = error.contents.message.decode(errors="replace") if error else "no error"
            print(f"=== <{address}> error: {message}", flush=True)
            continue
        for kind, extension in KINDS.items():
            source = edataserver.e_source_new(None, None, None)
            edataserver.e_source_get_extension(source, extension)
            if not getattr(mail, f"e_mail_autoconfig_set_{kind}_details")(found, source):
                print(f"=== <{address}> {kind}: none", flush=True)
                continue
            text = edataserver.e_source_to_string(source, None).decode()
            print(f"=== <{address}> {kind}\n{text}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
