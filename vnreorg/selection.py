"""Cross-validation over several training seeds, and the written rule that chooses the shipped system.

`cross_validate_seeds` runs `vnreorg.cv.cross_validate` once per seed (each seed's full report in
`<out>/seed<k>/`); a system without any trained neural component (rules, the liblinear scorers: fitted
deterministically, no random state) is run once and its figures repeated for every seed, so its sd over
seeds is 0 by construction, not by measurement. `<out>/seeds_report.md/.json` give, per system, the mean
± sd over seeds of the pooled strict micro F1 (entities, relations, each label), the mean ± sd over folds,
the selection (`select_system`, the rule of models/README.md "How the shipped system is chosen") and
the machine facts (CPU, BLAS, threads) the figures were measured on.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vnreorg.errors import VnreorgError

TRAINED_FACTORIES = {"tok2vec", "ner", "relation_extractor", "span_scorer", "relation_scorer", "spancat"}
NEURAL_FACTORIES = {"tok2vec", "ner", "relation_extractor", "spancat"}
ENTITY_WINDOW = 0.01


def config_factories(config: str) -> list[str]:
    from spacy.util import load_config

    from vnreorg.models.train import config_path

    cfg = load_config(config_path(config))
    return [cfg["components"][c].get("factory", c) for c in cfg["nlp"]["pipeline"]]


def trained_components(config: str) -> int:
    return sum(1 for f in config_factories(config) if f in TRAINED_FACTORIES)


def is_deterministic(config: str) -> bool:
    """No neural component: the seed changes nothing (rules; liblinear fits with a fixed random_state)."""
    return not any(f in NEURAL_FACTORIES for f in config_factories(config))


def machine_facts() -> dict[str, Any]:
    """CPU, cores, BLAS and thread pools (threadpoolctl) and library versions: the figures of trained
    neural systems move with them."""
    facts: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(), "cpu_count": os.cpu_count()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    facts["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        facts["cpu"] = platform.processor()
    try:
        facts["affinity"] = len(os.sched_getaffinity(0))
    except AttributeError:
        pass
    try:
        from threadpoolctl import threadpool_info

        facts["threadpools"] = [
            {
                k: v
                for k, v in p.items()
                if k in ("user_api", "internal_api", "num_threads", "version", "threading_layer", "architecture")
            }
            for p in threadpool_info()
        ]
    except Exception as exc:  # threadpoolctl absent or failing: say so
        facts["threadpools"] = f"unavailable ({exc.__class__.__name__})"
    import numpy
    import spacy
    import thinc

    facts["versions"] = {"numpy": numpy.__version__, "spacy": spacy.__version__, "thinc": thinc.__version__}
    try:
        import sklearn

        facts["versions"]["scikit-learn"] = sklearn.__version__
    except ImportError:
        pass
    facts["env_threads"] = {
        k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if k in os.environ
    }
    return facts


def _mean_sd(values: list[float]) -> tuple[float, float]:
    if not values:
        return float("nan"), float("nan")
    if all(v == values[0] for v in values):  # a deterministic system repeated: exactly its value
        return values[0], 0.0
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise(per_seed: dict[int, dict[str, Any]], systems: dict[str, str]) -> dict[str, Any]:
    """{system: {entities/relations: {pooled mean, sd over seeds, per seed, per label mean ± sd, fold mean ± sd}}}."""
    out: dict[str, Any] = {}
    for system in systems:
        entry: dict[str, Any] = {
            "config": systems[system],
            "trained_components": trained_components(systems[system]),
            "deterministic": is_deterministic(systems[system]),
        }
        for kind in ("entities", "relations"):
            pooled = [per_seed[s]["pooled"][system][kind]["micro"] for s in sorted(per_seed)]
            labels = sorted(next(iter(per_seed.values()))["pooled"][system][kind])
            per_seed_folds = [
                [float(getattr(r, kind)["strict"]["micro"]["f1"]) for r in per_seed[s]["results"][system].values()]
                for s in sorted(per_seed)
            ]
            fold_stats = [_mean_sd(f) for f in per_seed_folds]  # mean ± sd over the folds of each seed
            fold_means = [m for m, _ in fold_stats]
            m, sd = _mean_sd(pooled)
            fm, fsd = _mean_sd(fold_means)[0], _mean_sd([x for _, x in fold_stats])[0]
            entry[kind] = {
                "pooled_mean": m,
                "pooled_sd_over_seeds": sd,
                "pooled_per_seed": pooled,
                "fold_mean": fm,
                "fold_sd": fsd,  # mean over seeds of the folds' mean and sd
                "fold_mean_sd_over_seeds": _mean_sd(fold_means)[1],
                "per_label": {
                    lab: dict(
                        zip(
                            ("mean", "sd"),
                            _mean_sd([per_seed[s]["pooled"][system][kind].get(lab, 0.0) for s in sorted(per_seed)]),
                            strict=True,
                        )
                    )
                    for lab in labels
                    if lab != "micro"
                },
            }
        out[system] = entry
    return out


def select_system(summary: dict[str, Any]) -> dict[str, Any]:
    """The rule written in models/README.md before the run: eligible = mean pooled entity F1 within 0.01
    of the best; shipped = the eligible system with the best mean pooled relation F1; a tie (equal to
    three decimals) goes to the one with fewer trained components (then the first listed)."""
    if not summary:
        raise VnreorgError("no systems to choose from")
    best_ent = max(v["entities"]["pooled_mean"] for v in summary.values())
    eligible = [s for s, v in summary.items() if v["entities"]["pooled_mean"] >= best_ent - ENTITY_WINDOW - 1e-12]
    order = list(summary)
    chosen = min(
        eligible,
        key=lambda s: (-round(summary[s]["relations"]["pooled_mean"], 3), summary[s]["trained_components"], order.index(s)),
    )
    return {
        "chosen": chosen,
        "eligible": eligible,
        "best_entity_mean": best_ent,
        "rule": "eligible: mean pooled entity F1 within 0.01 of the best; shipped: best mean pooled relation F1 "
        "among them; tie (3 decimals): fewer trained components",
    }


def cross_validate_seeds(
    documents: list,
    out_dir: str | Path,
    *,
    folds: list[dict[str, Any]],
    systems: dict[str, str],
    seeds: tuple[int, ...] = (0, 1, 2),
    work_dir: str | Path | None = None,
    n_boot: int = 1000,
    overrides: dict | None = None,
    sources=None,
    synthetic: list | None = None,
    reuse: bool = False,
    log: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Cross-validate every system with every seed (deterministic systems once); write the seeds report.
    `reuse`: predictions already in `<out>/seed<k>/` are scored, not retrained."""
    from vnreorg.cv import cross_validate

    out_dir = Path(out_dir)
    work_dir = Path(work_dir) if work_dir else out_dir / "work"
    deterministic = {s for s, c in systems.items() if is_deterministic(c)}
    per_seed: dict[int, dict[str, Any]] = {}
    t0 = time.perf_counter()
    for k, seed in enumerate(seeds):
        run = {s: c for s, c in systems.items() if k == 0 or s not in deterministic}
        log(
            f"== cross-validation, seed {seed}: {', '.join(run)}"
            + (f" (deterministic, from seed {seeds[0]}: {', '.join(sorted(deterministic))})" if k and deterministic else "")
        )
        if not run:  # every system deterministic: nothing to retrain (an empty dict would mean "the defaults")
            per_seed[seed] = per_seed[seeds[0]]
            continue
        got = cross_validate(
            documents,
            out_dir / f"seed{seed}",
            folds=folds,
            systems=run,
            seed=seed,
            work_dir=work_dir / f"seed{seed}",
            n_boot=n_boot,
            overrides=overrides,
            sources=sources,
            synthetic=synthetic,
            reuse=reuse,
            log=log,
        )
        if k:
            first = per_seed[seeds[0]]
            for key in ("results", "pooled", "timings"):
                got[key] = {**{s: first[key][s] for s in systems if s not in run}, **got[key]}
        per_seed[seed] = got
    summary = summarise(per_seed, systems)
    selection = select_system(summary)
    report = {
        "seeds": list(seeds),
        "systems": systems,
        "training_data": sources.describe() if sources is not None else "seeds",
        "deterministic_run_once": sorted(deterministic),
        "summary": summary,
        "selection": selection,
        "seconds": round(time.perf_counter() - t0, 1),
        "train_seconds": {s: {str(seed): per_seed[seed]["timings"][s] for seed in seeds} for s in systems},
        "machine": machine_facts(),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    from vnreorg.jsonio import write_atomic

    write_atomic(out_dir / "seeds_report.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_atomic(out_dir / "seeds_report.md", seeds_markdown(report))
    import shutil

    for name in ("cv_report.md", "cv_report.html", "cv_report.json"):  # the first seed's full report, at the top
        if (out_dir / f"seed{seeds[0]}" / name).exists():
            shutil.copyfile(out_dir / f"seed{seeds[0]}" / name, out_dir / name)
    return {
        "per_seed": per_seed,
        "summary": summary,
        "selection": selection,
        "report": report,
        "pooled": {
            s: {
                kind: {
                    **{lab: v["mean"] for lab, v in summary[s][kind]["per_label"].items()},
                    "micro": summary[s][kind]["pooled_mean"],
                }
                for kind in ("entities", "relations")
            }
            for s in systems
        },
    }


def seeds_markdown(report: dict[str, Any]) -> str:
    summ, sel = report["summary"], report["selection"]
    lines = [
        "# Cross-validation over seeds",
        "",
        f"Seeds {report['seeds']}; leave-one-seed-document-out folds (test = one real seed article); training data per "
        f"fold: {report['training_data']} (synthetic sentences and mention-replaced copies never in a test fold). "
        f"Strict micro F1. Systems without a neural component ({', '.join(report['deterministic_run_once']) or 'none'}) "
        "are fitted deterministically and run once: their sd over seeds is 0 by construction.",
        "",
        "| system | trained comp. | entities pooled (mean ± sd over seeds) | entities per fold (mean ± sd) | "
        "relations pooled (mean ± sd over seeds) | relations per fold (mean ± sd) |",
        "|---|---|---|---|---|---|",
    ]
    for s, v in summ.items():
        e, r = v["entities"], v["relations"]
        mark = " **(shipped)**" if s == sel["chosen"] else (" (eligible)" if s in sel["eligible"] else "")
        lines.append(
            f"| {s}{mark} | {v['trained_components']} | {e['pooled_mean']:.3f} ± {e['pooled_sd_over_seeds']:.3f} | "
            f"{e['fold_mean']:.3f} ± {e['fold_sd']:.3f} | {r['pooled_mean']:.3f} ± {r['pooled_sd_over_seeds']:.3f} | "
            f"{r['fold_mean']:.3f} ± {r['fold_sd']:.3f} |"
        )
    lines += ["", "## Per label (pooled strict F1, mean ± sd over seeds)", ""]
    labels_e = sorted({lab for v in summ.values() for lab in v["entities"]["per_label"]})
    labels_r = sorted({lab for v in summ.values() for lab in v["relations"]["per_label"]})
    lines += ["| system | " + " | ".join(labels_e + labels_r) + " |", "|---|" + "---|" * (len(labels_e) + len(labels_r))]
    for s, v in summ.items():
        cells = [
            f"{v['entities']['per_label'][lab]['mean']:.3f} ± {v['entities']['per_label'][lab]['sd']:.3f}"
            if lab in v["entities"]["per_label"]
            else "-"
            for lab in labels_e
        ]
        cells += [
            f"{v['relations']['per_label'][lab]['mean']:.3f} ± {v['relations']['per_label'][lab]['sd']:.3f}"
            if lab in v["relations"]["per_label"]
            else "-"
            for lab in labels_r
        ]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Selection",
        "",
        f"Rule: {sel['rule']}.",
        f"Best mean pooled entity F1 {sel['best_entity_mean']:.3f}; "
        f"eligible: {', '.join(sel['eligible'])}; **shipped: {sel['chosen']}**.",
        "",
        "## Machine",
        "",
        "```",
        json.dumps(report["machine"], ensure_ascii=False, indent=1),
        "```",
        "",
        f"Wall time of the cross-validation: {report['seconds']:.0f} s. Per-seed reports: `seed<k>/cv_report.md`.",
        "",
    ]
    return "\n".join(lines)
