"""The Earth as a sphere: its radius, the mile, and the one great-circle (haversine) formula.

`haversine_km` takes one point and either one other point (floats, for the few candidates of
a place name) or arrays of points (numpy, for every site of a search); the formula is written
once for both. numpy is imported only for arrays, so resolving a place does not load it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
KM_PER_MILE = 1.609344  # international mile, exact


@overload
def haversine_km(lat: float, lon: float, lats: float, lons: float) -> float: ...


@overload
def haversine_km(
    lat: float, lon: float, lats: ArrayLike, lons: ArrayLike
) -> NDArray[np.float64]: ...


def haversine_km(lat: float, lon: float, lats: Any, lons: Any) -> Any:
    """Great-circle distances in km from (lat, lon) to (lats, lons); NaN in, NaN out."""
    scalar = isinstance(lats, (int, float)) and isinstance(lons, (int, float))
    if scalar:
        xp: Any = math
        lats, lons = float(lats), float(lons)
        if math.isnan(lats) or math.isnan(lons):
            return math.nan
    else:
        import numpy

        xp = numpy
        lats = numpy.asarray(lats, dtype=numpy.float64)
        lons = numpy.asarray(lons, dtype=numpy.float64)
    phi1 = math.radians(lat)
    phi2 = xp.radians(lats)
    dphi = phi2 - phi1
    dlam = xp.radians(lons) - math.radians(lon)
    a = xp.sin(dphi / 2.0) ** 2 + math.cos(phi1) * xp.cos(phi2) * xp.sin(dlam / 2.0) ** 2
    if scalar:
        return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, a))))
    return 2.0 * EARTH_RADIUS_KM * xp.arcsin(xp.sqrt(xp.clip(a, 0, 1)))
