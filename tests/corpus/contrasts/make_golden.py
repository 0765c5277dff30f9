"""Write golden_pairs.json: every shipped spec's contrast pairs on its units (regression data).

Made once with the hard-coded families (commit 'integrate' before the contrast catalogue):
    PYTHONPATH=src python tests/corpus/contrasts/make_golden.py
"""
import json
from pathlib import Path

from triad.contrasts import contrast_pairs
from triad.modeldata import model_frame, summary_frame
from triad.paths import default_data
from triad.readers import read_respondents
from triad.specs import load_specs


def pairs_of_every_spec() -> dict:
    data = read_respondents(default_data())
    out = {}
    for spec in load_specs():
        frame = (model_frame(data, spec) if spec.data == "respondent"
                 else summary_frame(spec)).frame
        for family in spec.contrasts:
            for scale in spec.scales:
                rows = [[name, sector, list(map(str, (sa.rater, sa.target, sa.scale,
                                                       sa.sector, sa.gender))),
                         list(map(str, (sb.rater, sb.target, sb.scale, sb.sector, sb.gender)))]
                        for name, sector, sa, sb in contrast_pairs(family, scale, frame)]
                out[f"{spec.name}|{family}|{scale}"] = rows
    return out


if __name__ == "__main__":
    path = Path(__file__).with_name("golden_pairs.json")
    path.write_text(json.dumps(pairs_of_every_spec(), indent=0, sort_keys=True) + "\n")
    print(path, sum(len(v) for v in pairs_of_every_spec().values()), "pairs")
