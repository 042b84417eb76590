"""The moto server (SQS, DynamoDB, S3) for the aws test profile, with two changes that only save
the emulator's CPU, which the aws profile's tests are bound by (moto serves every request on one
core under the GIL):

- no per-request access log (werkzeug writes one line per request; the tests send thousands);
- moto lists its own package directory on every request to route it
  (moto.backends.list_of_moto_modules: an os.listdir plus ~190 isdir calls, about a tenth of the
  server's time in a profile of this suite); the listing never changes while it runs, so it is
  read once.

Everything else is moto as installed from PyPI. Usage: python3 scripts/moto-server.py -H 127.0.0.1 -p 55000
"""

import logging
import sys

import moto.backends as backends
from moto.server import main

modules = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: modules
logging.getLogger("werkzeug").setLevel(logging.WARNING)

if __name__ == "__main__":
    main(sys.argv[1:])
