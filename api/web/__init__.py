"""The web app of ``mobility serve``: the page at ``/``, its ES modules, the basemap tiles and style.

The app is plain ES modules (``api/web/static``) served as they are, with no build step;
MapLibre GL JS comes from ``api/web/node_modules`` (installed by ``make setup`` from the npm
registry). The page talks to the same ``/v1`` API as every other client, with the API key the
user signs in with (kept in the browser's ``sessionStorage``).

Public routes (no key), and why:

* ``/``, ``/web/...``: the application's own code and style sheets; they hold no data.
* ``/tiles/{z}/{x}/{y}.pbf``, ``/web/style.json``: the OpenStreetMap basemap (public ODbL data,
  no project data). A map view loads dozens of tiles at once; MapLibre fetching them without
  a key keeps them cacheable by the browser and outside the per-key rate limit.

Every data route the app calls (scenarios, plans, runs, exports, stations) needs the key.
"""

from api.web.router import PUBLIC_ROUTES, router

__all__ = ["PUBLIC_ROUTES", "router"]
