"""Study strings (titles, intervention names): is a CAR mention the study's own product?

A mention is not the study's own when a prior-therapy or population phrase comes before it
("after CAR-T", "for patients planning to undergo CAR-T"), when an after-effect follows it
("CAR-T-associated CRS"), or when the study only follows up people treated elsewhere (a
long-term follow-up study gives no product).
"""

from __future__ import annotations

import re

from trialfinder.cart.vocab import Mention, vocabulary

_NOT_OWN_BEFORE = re.compile(
    r"(?:\bafter|\bpost|\bfollowing|\bprior|\bprevious(?:ly)?|\bfail\w*|\bfailure of|\brelaps\w*"
    r"|\brefractory|\bresistant|\bexposed|\bprogress\w*|\bsince|\breceiving|\breceived|\bundergoing"
    r"|\btreated with|\bbefore|\beligible for|\bcandidates? for|\bwithin\s+\S+\s+\w+\s+of"
    r"|\brecover\w* from|\bsurvivors? of|\bplann\w*\s+(?:to\s+(?:undergo|receive)|for)"
    r"|\bscheduled\s+(?:for|to\s+(?:undergo|receive))|\bawaiting)"
    r"\W+(?:[\w/+-]+\W+){0,3}$",
    re.IGNORECASE,
)
_NOT_OWN_AFTER = re.compile(
    r"^[\s-]*(?:(?:cells?|therapy|therapies|t-cells?|t)[\s-]+){0,2}(?:failure|failed|relaps\w*"
    r"|refractory|exposed|pretreated|experienced|associated|related|induced|toxicit\w*|recipients?"
    r"|cytopeni\w*|crs|icans)\b",
    re.IGNORECASE,
)
# "CD19 CART Long Term Follow Up (LTFU) Study": it follows people treated in other studies.
_FOLLOW_UP = re.compile(r"\blong[- ]term[- ]follow[- ]?ups?\b|\bLTFU\b", re.IGNORECASE)


def own_car_mentions(text: str) -> tuple[list[Mention], bool]:
    """CAR mentions in a title or intervention string that are the study's own product.

    Also says whether any mention was not ('after CAR-T', 'CAR-T-associated CRS').
    """
    own: list[Mention] = []
    other = False
    cars = [m for m in vocabulary().mentions(text) if m.kind == "car"]
    follow_up = bool(cars) and _FOLLOW_UP.search(text) is not None
    for m in cars:
        if (
            follow_up
            or _NOT_OWN_BEFORE.search(text[max(0, m.start - 60) : m.start])
            or _NOT_OWN_AFTER.match(text[m.end :])
        ):
            other = True
        else:
            own.append(m)
    return own, other
