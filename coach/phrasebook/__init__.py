"""The phrasebook: the rules and scenarios a trainer edits, as validated data.

* :mod:`~coach.phrasebook.model` — the data classes (entries, scenarios, thresholds);
* :mod:`~coach.phrasebook.load` — reading the TOML files and validating them whole;
* :mod:`~coach.phrasebook.normalize` — the text normal form (and its sound form) that phrases
  and utterances share.

The matcher (:mod:`coach.matcher`) and the session rules (:mod:`coach.rules`) both stand on this
package; it depends on neither.
"""

from coach.phrasebook.load import load_phrasebook
from coach.phrasebook.model import (
    BRUSH_OFF_SEVERITIES,
    STAGES,
    Entry,
    Phrasebook,
    Scenario,
    Thresholds,
    Turn,
    default_dir,
)

__all__ = ["BRUSH_OFF_SEVERITIES", "STAGES", "Entry", "Phrasebook", "Scenario", "Thresholds", "Turn",
           "default_dir", "load_phrasebook"]
