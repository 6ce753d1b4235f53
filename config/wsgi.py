import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Django, the apps and every module they import stay for the life of the server process: moved
# out of the cyclic garbage collector's reach (gc.freeze), a full collection walks only what
# requests allocate instead of every object of the process. A long ticket's page (bench/
# mailbox.py, `?all=1`) set off full collections of ~100 ms under load; frozen, ~8 ms.
gc.freeze()
