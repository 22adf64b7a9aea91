"""Run a trained or packaged pipeline on corpus Documents and return corpus-format predictions.

`predict_documents` is what the evaluator's `--model` calls. Documents are cut into the same
paragraph Docs as in training, with the document's sentence boundaries (computed by the corpus
segmenter when a document has none), and the predictions are mapped back to document offsets.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from vnreorg.errors import VnreorgError
from vnreorg.models import components  # noqa: F401  (registers the factories for trained models)
from vnreorg.models.convert import DOC_ID, docs_to_document, document_to_docs
from vnreorg.schema import Document


def load_model(model_path_or_name: str | Path):
    """A trained pipeline folder, a training output folder (its `model/`), or an installed package name."""
    import spacy

    path = Path(model_path_or_name)
    if path.exists():
        if (path / "model" / "meta.json").exists():
            path = path / "model"
        if not (path / "meta.json").exists() or not (path / "config.cfg").exists():
            raise VnreorgError("not a spaCy pipeline folder (no meta.json/config.cfg)", str(path))
        return spacy.load(path)
    try:
        return spacy.load(str(model_path_or_name))
    except OSError:
        raise VnreorgError("no such model folder or installed model package", str(model_path_or_name)) from None


@lru_cache(maxsize=4)
def _cached_model(key: str):
    return load_model(key)


def _with_sentences(document: Document) -> Document:
    if document.sentences and document.paragraphs:
        return document
    from vnreorg.corpus.segment import paragraphs, sentences

    paras = list(document.paragraphs) or paragraphs(document.text)
    sents = list(document.sentences) or sentences(document.text, paras)
    return Document(
        id=document.id,
        text=document.text,
        meta=document.meta,
        paragraphs=paras,
        sentences=sents,
        paragraph_kinds=list(document.paragraph_kinds) if document.paragraphs else [],
    )


def predict_documents(model_path_or_name, docs: list[Document], *, batch_size: int = 64, n_process: int = 1) -> list[Document]:
    """Predicted spans (entities) and relations (with their probability as `score`) for each document.

    `model_path_or_name` may also be a loaded `Language` object."""
    nlp = model_path_or_name if hasattr(model_path_or_name, "pipe_names") else _cached_model(str(model_path_or_name))
    units: list = []
    for document in docs:
        units.extend(document_to_docs(nlp, _with_sentences(document), with_gold=False))
    processed = list(nlp.pipe(units, batch_size=batch_size, n_process=n_process))
    by_doc: dict[str, list] = {}
    for doc in processed:
        by_doc.setdefault(doc.user_data[DOC_ID], []).append(doc)
    return [docs_to_document(document, by_doc.get(document.id, [])) for document in docs]
