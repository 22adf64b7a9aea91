"""`vnreorg model ablate`: each resource and data source on/off for one system, and the transfer checks.

Ablation: the system is cross-validated on the same leave-one-seed-out folds with one thing switched
off at a time (the synthetic corpus, the mention-replaced seeds, the whole lexicon, or one family of
resource forms: agencies, administrative units, titles); each variant is compared with the full
system by the evaluator's paired document-level bootstrap (`vnreorg.eval.cv.paired_bootstrap`).
Transfer: train on the synthetic corpus only and test on all five seeds; train on the five seeds
only and test on the synthetic corpus. Deterministic systems need one seed; a neural one gets the
seed given (the report says which).

Each variant's predictions are kept in `<out>/work/<variant>/predictions.jsonl`; with `--reuse` a
variant already predicted is read back instead of retrained (so variants can run in separate
processes and one last call writes the report).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import typer

from vnreorg.errors import VnreorgError

ALL_KINDS = ["agency", "agency_abbr", "unit", "title", "title_member", "title_mod"]
LEXICON_KEY = "initialize.components.lexicon_matcher.kinds"
# name -> (data sources, lexicon kinds or None = all, what it tests)
VARIANTS: dict[str, tuple[str, list[str] | None, str]] = {
    "full": ("seeds,synthetic,augment", None, "the system as shipped: seeds + synthetic + augmented seeds, every resource"),
    "no_synthetic": ("seeds,augment", None, "without the synthetic corpus"),
    "no_augment": ("seeds,synthetic", None, "without the mention-replaced training seeds"),
    "seeds_only": ("seeds", None, "training seeds only (no synthetic, no augmentation)"),
    "no_lexicon": ("seeds,synthetic,augment", [], "without any lexicon form"),
    "no_agencies": (
        "seeds,synthetic,augment",
        [k for k in ALL_KINDS if not k.startswith("agency")],
        "without agency names and abbreviations",
    ),
    "no_units": ("seeds,synthetic,augment", [k for k in ALL_KINDS if k != "unit"], "without administrative units"),
    "no_titles": (
        "seeds,synthetic,augment",
        [k for k in ALL_KINDS if not k.startswith("title")],
        "without titles, memberships, modifiers",
    ),
}


def _f1(result, kind: str) -> float:
    return float(getattr(result, kind)["strict"]["micro"]["f1"])


def _per_label(result, kind: str) -> dict[str, float]:
    return {lab: float(v["f1"]) for lab, v in getattr(result, kind)["strict"]["per_label"].items()}


def run_variant(name: str, config: str, docs, folds, synthetic, out: Path, seed: int, reuse: bool, log) -> dict[str, Any]:
    """Fold results of one variant: {fold name: EvalResult}, training or reading back its predictions."""
    from vnreorg.eval.scoring import evaluate_documents
    from vnreorg.jsonio import read_documents, write_documents
    from vnreorg.models.data import DataSources, training_documents
    from vnreorg.models.predict import predict_documents
    from vnreorg.models.train import train_model

    data, kinds, _ = VARIANTS[name]
    work = out / "work" / name
    pred_file = work / "predictions.jsonl"
    by_id = {d.id: d for d in docs}
    if reuse and pred_file.exists():
        preds = {d.id: d for d in read_documents(pred_file)}
    else:
        sources = DataSources.parse(data)
        overrides = {LEXICON_KEY: kinds} if kinds is not None else None
        preds = {}
        for fold in folds:
            t0 = time.perf_counter()
            train = training_documents(
                [by_id[i] for i in fold["train"]], sources=sources, synthetic=synthetic, test_ids=fold["test"], seed=seed
            )
            trained = train_model(config, train, work / fold["name"], seed=seed, quiet=True, overrides=overrides)
            for p in predict_documents(str(trained.model_path), [by_id[i] for i in fold["test"]]):
                preds[p.id] = p
            log(f"  {name:<13} {fold['name']:<26} ({time.perf_counter() - t0:.0f} s)")
        write_documents(pred_file, [preds[d.id] for d in docs])
    return {
        fold["name"]: evaluate_documents([by_id[i] for i in fold["test"]], [preds[i] for i in fold["test"]], n_boot=0)
        for fold in folds
    }


def transfer(config: str, docs, synthetic, out: Path, seed: int, reuse: bool, log) -> dict[str, Any]:
    """Synthetic only -> the five seeds; the five seeds only -> the synthetic corpus."""
    from vnreorg.eval.scoring import evaluate_documents
    from vnreorg.jsonio import read_documents, write_documents
    from vnreorg.models.predict import predict_documents
    from vnreorg.models.train import train_model

    res = {}
    for name, train, test in (("synthetic_to_seeds", list(synthetic), docs), ("seeds_to_synthetic", docs, list(synthetic))):
        pred_file = out / "work" / name / "predictions.jsonl"
        if reuse and pred_file.exists():
            preds = read_documents(pred_file)
        else:
            t0 = time.perf_counter()
            trained = train_model(config, train, out / "work" / name / "run", seed=seed, quiet=True)
            preds = predict_documents(str(trained.model_path), test)
            write_documents(pred_file, preds)
            log(f"  {name:<20} ({time.perf_counter() - t0:.0f} s)")
        r = evaluate_documents(test, preds, n_boot=0)
        res[name] = {
            "train_documents": len(train),
            "test_documents": len(test),
            "entities": _f1(r, "entities"),
            "relations": _f1(r, "relations"),
            "entities_per_label": _per_label(r, "entities"),
            "relations_per_label": _per_label(r, "relations"),
        }
    return res


def ablate(
    docs,
    folds,
    synthetic,
    config: str,
    out: Path,
    *,
    variants: list[str],
    seed: int = 0,
    n_boot: int = 1000,
    reuse: bool = False,
    with_transfer: bool = True,
    log=print,
) -> dict[str, Any]:
    from vnreorg.eval.cv import paired_bootstrap

    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        raise VnreorgError(f"unknown ablation variants {unknown} (known: {', '.join(VARIANTS)})")
    if "full" not in variants:
        variants = ["full", *variants]
    results = {v: run_variant(v, config, docs, folds, synthetic, out, seed, reuse, log) for v in variants}
    rows = {}
    for v in variants:
        entry: dict[str, Any] = {
            "what": VARIANTS[v][2],
            "data": VARIANTS[v][0],
            "lexicon": "all" if VARIANTS[v][1] is None else VARIANTS[v][1],
        }
        if v != "full":
            boot = paired_bootstrap(results[v], results["full"], seed=seed, n_boot=n_boot)
            for kind in ("entities", "relations"):
                b = boot[f"{kind}.strict"]
                entry[kind] = {"f1": b["a"], "delta": b["delta"], "ci95": b.get("ci95"), "p_value": b.get("p_value")}
        else:
            boot = paired_bootstrap(results["full"], results["full"], seed=seed, n_boot=0)
            for kind in ("entities", "relations"):
                entry[kind] = {"f1": boot[f"{kind}.strict"]["a"]}
        rows[v] = entry
    report: dict[str, Any] = {
        "config": config,
        "seed": seed,
        "n_boot": n_boot,
        "folds": [f["name"] for f in folds],
        "variants": rows,
    }
    if with_transfer:
        report["transfer"] = transfer(config, docs, synthetic, out, seed, reuse, log)
    from vnreorg.selection import machine_facts

    report["machine"] = machine_facts()
    from vnreorg.jsonio import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "ablation.json", json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    write_atomic(out / "ablation.md", markdown(report))
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Ablation and transfer",
        "",
        f"System `{report['config']}`, seed {report['seed']}; leave-one-seed-out folds (test: one real seed article each). "
        f"Strict micro F1 pooled over the folds; delta = variant − full, with a paired document-level bootstrap "
        f"interval ({report['n_boot']} replicates, `vnreorg.eval.cv.paired_bootstrap`). Five test documents: "
        "intervals are wide.",
        "",
        "| variant | what | entities F1 | Δ entities [95% CI] | relations F1 | Δ relations [95% CI] |",
        "|---|---|---|---|---|---|",
    ]
    for v, row in report["variants"].items():
        cells = []
        for kind in ("entities", "relations"):
            e = row[kind]
            cells.append(f"{e['f1']:.3f}")
            if "delta" in e:
                ci = f" [{e['ci95'][0]:+.3f}, {e['ci95'][1]:+.3f}]" if e.get("ci95") else ""
                cells.append(f"{e['delta']:+.3f}{ci}")
            else:
                cells.append("—")
        lines.append(f"| {v} | {row['what']} | " + " | ".join(cells) + " |")
    if "transfer" in report:
        lines += [
            "",
            "## Transfer",
            "",
            "| train → test | documents | entities F1 | relations F1 | per label |",
            "|---|---|---|---|---|",
        ]
        for name, t in report["transfer"].items():
            per = ", ".join(f"{k} {v:.3f}" for k, v in {**t["entities_per_label"], **t["relations_per_label"]}.items())
            lines.append(
                f"| {name.replace('_to_', ' → ')} | {t['train_documents']} → {t['test_documents']} | {t['entities']:.3f} | "
                f"{t['relations']:.3f} | {per} |"
            )
    lines += ["", "## Machine", "", "```", json.dumps(report["machine"], ensure_ascii=False, indent=1), "```", ""]
    return "\n".join(lines)


def ablate_command(
    config: str = typer.Option("scored", "--config", "-c", help="The system to ablate (the shipped one)."),
    gold: Path = typer.Option(Path("corpus/gold/gold.jsonl"), "--gold", help="Seed gold (the test folds)."),
    folds: Path = typer.Option(Path("corpus/gold/folds.json"), "--folds", help="Folds file."),
    synthetic: Path = typer.Option(Path("corpus/synthetic/synthetic.jsonl"), "--synthetic", help="Synthetic training corpus."),
    out: Path = typer.Option(
        Path("models/reports/ablation"), "--out", "-o", help="Report folder (ablation.md/.json; work/ is scratch)."
    ),
    variants: str = typer.Option(",".join(VARIANTS), "--variants", help=f"Variants ({', '.join(VARIANTS)})."),
    seed: int = typer.Option(0, "--seed"),
    n_boot: int = typer.Option(1000, "--n-boot"),
    reuse: bool = typer.Option(False, "--reuse", help="Read back variants already predicted in <out>/work."),
    with_transfer: bool = typer.Option(True, "--transfer/--no-transfer", help="Also the two transfer checks."),
    predict_only: bool = typer.Option(
        False,
        "--predict-only",
        help="Only train and predict these variants (and the transfer "
        "checks unless --no-transfer) into <out>/work; no report (a later --reuse call writes it).",
    ),
) -> None:
    """Ablation (each resource and data source off, paired bootstrap deltas) and transfer checks for one system."""
    from vnreorg.cv import load_folds
    from vnreorg.jsonio import read_documents
    from vnreorg.models.data import load_synthetic

    docs = read_documents(gold)
    fold_list = load_folds(docs, folds)
    syn = load_synthetic(synthetic, log=typer.echo)
    t0 = time.perf_counter()
    chosen = [v.strip() for v in variants.split(",") if v.strip()]
    if predict_only:
        for v in chosen:
            run_variant(v, config, docs, fold_list, syn, out, seed, reuse, typer.echo)
        if with_transfer:
            transfer(config, docs, syn, out, seed, reuse, typer.echo)
        typer.echo(f"== predicted {', '.join(chosen)} in {time.perf_counter() - t0:.0f} s -> {out}/work")
        return
    ablate(
        docs,
        fold_list,
        syn,
        config,
        out,
        variants=chosen,
        seed=seed,
        n_boot=n_boot,
        reuse=reuse,
        with_transfer=with_transfer,
        log=typer.echo,
    )
    typer.echo((out / "ablation.md").read_text(encoding="utf-8"))
    typer.echo(f"== ablation done in {time.perf_counter() - t0:.0f} s -> {out}")
