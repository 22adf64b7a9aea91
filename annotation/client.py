"""Push to and pull from a Label Studio server through label-studio-sdk.

Tasks are keyed by `data.doc_id`: a re-push finds the existing task and never duplicates it. Work
already done by annotators is never overwritten by a push; a changed document text is refused for an
annotated task (its offsets would drift). Every server failure becomes one VnreorgError.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vnreorg.annotation.convert import parse_export, prediction_body, result_items, task_data, tasks_for_documents
from vnreorg.annotation.labelconfig import ID_FIELD, TEXT_FIELD, instructions_html, labeling_config
from vnreorg.annotation.offsets import LEGACY_UNIT, OFFSET_FIELD, OFFSET_UNIT, task_offset_unit
from vnreorg.annotation.server import CREDENTIALS_FILE, DEFAULT_DATA_DIR, Credentials, health
from vnreorg.errors import VnreorgError
from vnreorg.schema import Document

DEFAULT_PROJECT = "vnreorg"
IMPORT_BATCH = 500
PROJECT_PAGE = 100


def resolve_connection(url: str | None, api_key: str | None, data_dir: str | os.PathLike = DEFAULT_DATA_DIR) -> tuple[str, str]:
    """--url/--api-key (or LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY), else the embedded server's credentials."""
    url = url or os.environ.get("LABEL_STUDIO_URL")
    api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if url and api_key:
        return url.rstrip("/"), api_key
    saved = Credentials.load(Path(data_dir))
    if saved is None and url:
        raise VnreorgError(
            f"--url {url} was given without --api-key: pass the server's API token with --api-key (or LABEL_STUDIO_API_KEY), "
            f"or --data-dir pointing to the folder of the embedded server that saved it (now {data_dir}, which holds no {CREDENTIALS_FILE})"
        )
    if saved is None:
        raise VnreorgError(
            "no Label Studio server given: start one with `vnreorg annotate serve` (in another terminal), "
            "or pass --url and --api-key of a running server"
        )
    return (url or saved.url).rstrip("/"), api_key or saved.token


@contextmanager
def api_errors(what: str, url: str) -> Iterator[None]:
    """Turn SDK and transport failures into one clear line."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        yield
    except ApiError as exc:
        body = exc.body if isinstance(exc.body, str) else json.dumps(exc.body, ensure_ascii=False, default=str)
        if exc.status_code in (401, 403):
            raise VnreorgError(
                f"the server rejected the API token while trying to {what} ({exc.status_code}: {body[:200]})", url
            ) from None
        raise VnreorgError(f"the server answered {exc.status_code} while trying to {what}: {body[:500]}", url) from None
    except httpx.HTTPError as exc:
        raise VnreorgError(
            f"cannot reach Label Studio to {what} ({type(exc).__name__}: {exc}); is the server running?", url
        ) from None


class LabelStudioSession:
    """A checked connection: the server answers /health and accepts the token."""

    def __init__(self, url: str, api_key: str, timeout: float = 120.0):
        from label_studio_sdk import LabelStudio

        self.url = url.rstrip("/")
        if not health(self.url, timeout=5.0):
            raise VnreorgError(
                "Label Studio is not answering (/health); start it with `vnreorg annotate serve` or check --url", self.url
            )
        self.client = LabelStudio(base_url=self.url, api_key=api_key, timeout=timeout, max_retries=0)
        with api_errors("check the token", self.url):
            self.user = self.client.users.whoami()

    # ----------------------------------------------------------------- projects
    def find_project(self, title: str) -> Any | None:
        found: list[Any] = []
        for page in range(1, 1000):
            # One page at a time, stopping at a short page: the SDK's pager asks for the page after the
            # last one, which the server answers with a 404 and an "Invalid page" traceback in its log.
            with api_errors(f"list projects named {title!r}", self.url):
                batch = self.client.projects.list(title=title, page_size=PROJECT_PAGE, page=page).items
            found += [p for p in batch if p.title == title]
            if len(batch) < PROJECT_PAGE:
                break
        if len(found) > 1:
            raise VnreorgError(
                f"{len(found)} projects are titled {title!r} (ids {', '.join(str(p.id) for p in found)}); rename all but one",
                self.url,
            )
        return found[0] if found else None

    def ensure_project(self, title: str) -> tuple[Any, bool]:
        """The project titled `title`, created with the schema's labeling config if missing; config kept current."""
        config = labeling_config()
        instructions = instructions_html()  # shown in the labeling interface, generated from GUIDELINES.md
        project = self.find_project(title)
        if project is None:
            with api_errors(f"create project {title!r}", self.url):
                project = self.client.projects.create(
                    title=title,
                    label_config=config,
                    show_collab_predictions=True,
                    expert_instruction=instructions,
                    show_instruction=True,
                    description="vnreorg corpus: agencies, titles, restructuring actions, numbers and their relations",
                )
            return project, True
        with api_errors(f"read project {title!r}", self.url):
            current = self.client.projects.get(project.id)
        if (current.label_config or "").strip() != config.strip():
            with api_errors(f"update the labeling config of project {title!r}", self.url):
                self.client.projects.update(project.id, label_config=config)
        if current.expert_instruction != instructions or not current.show_instruction:
            with api_errors(f"update the instructions of project {title!r}", self.url):
                self.client.projects.update(project.id, expert_instruction=instructions, show_instruction=True)
        return current, False

    def project_id(self, title: str) -> int:
        project = self.find_project(title)
        if project is None:
            raise VnreorgError(f"no project titled {title!r} on the server (push first, or pass --project)", self.url)
        return project.id

    # ----------------------------------------------------------------- tasks
    def export(self, project_id: int) -> list[dict[str, Any]]:
        """All tasks of the project (annotated or not) as Label Studio's JSON export."""
        with api_errors(f"export project {project_id}", self.url):
            raw = b"".join(self.client.projects.exports.download_sync(id=project_id, export_type="JSON", download_all_tasks=True))
        return parse_export(raw, f"{self.url} project {project_id} export")

    def users(self) -> dict[int, str]:
        with api_errors("list users", self.url):
            return {u.id: u.email for u in self.client.users.list()}

    def predictions(self, project_id: int) -> list[Any]:
        with api_errors(f"list predictions of project {project_id}", self.url):
            return list(self.client.predictions.list(project=project_id))


@dataclass
class PushReport:
    project_id: int = 0
    project_created: bool = False
    tasks_created: int = 0
    tasks_existing: int = 0
    tasks_text_updated: int = 0
    annotations_created: int = 0
    annotations_kept: list[str] = field(default_factory=list)  # doc ids whose server-side annotations were left alone
    predictions_created: int = 0
    predictions_replaced: int = 0
    foreign_tasks: int = 0  # tasks without a doc id (made by hand in Label Studio)
    tasks_marked: int = 0  # tasks pushed before the offset marker, now marked (no offset could differ)

    def lines(self) -> list[str]:
        out = [
            f"project {self.project_id}{' (created)' if self.project_created else ''}: "
            f"{self.tasks_created} task(s) created, {self.tasks_existing} already there"
            f"{f', {self.tasks_text_updated} with updated text' if self.tasks_text_updated else ''}; "
            f"{self.annotations_created} annotation(s) and {self.predictions_created} prediction(s) added"
            f"{f' ({self.predictions_replaced} older prediction(s) of the same model version replaced)' if self.predictions_replaced else ''}"
        ]
        if self.annotations_kept:
            out.append(
                f"{len(self.annotations_kept)} task(s) already annotated on the server were left as they are "
                f"(pull to bring that work into gold): {', '.join(self.annotations_kept[:8])}{' ...' if len(self.annotations_kept) > 8 else ''}"
            )
        if self.tasks_marked:
            out.append(
                f"{self.tasks_marked} task(s) pushed before the offset rule was recorded now carry it ({OFFSET_FIELD}: {OFFSET_UNIT})"
            )
        if self.foreign_tasks:
            out.append(f"{self.foreign_tasks} task(s) in the project have no {ID_FIELD} (made by hand) and were ignored")
        return out


def push(
    session: LabelStudioSession,
    docs: list[Document],
    *,
    project: str = DEFAULT_PROJECT,
    predictions: list[Document] | None = None,
    model_version: str = "model",
    annotate: bool = True,
) -> PushReport:
    """Create or update the project and its tasks; see the module docstring for the rules."""
    new_tasks_all = tasks_for_documents(docs, predictions=predictions, model_version=model_version, annotate=annotate)
    proj, created = session.ensure_project(project)
    report = PushReport(project_id=proj.id, project_created=created)
    existing: dict[str, dict[str, Any]] = {}
    if not created:
        for task in session.export(proj.id):
            doc_id = (task.get("data") or {}).get(ID_FIELD)
            if not isinstance(doc_id, str):
                report.foreign_tasks += 1
                continue
            if doc_id in existing:
                raise VnreorgError(
                    f"the project already holds two tasks for this document (tasks {existing[doc_id]['id']} and {task['id']}); "
                    "delete one in Label Studio",
                    f"project {proj.id} doc={doc_id}",
                )
            existing[doc_id] = task
    preds_by_id = {p.id: p for p in predictions or []}
    old_predictions: dict[int, list[Any]] = {}  # task -> its predictions of this model version
    other_versions: set[int] = set()  # tasks that also hold predictions of other versions
    if predictions and existing:
        for p in session.predictions(proj.id):
            if p.model_version == model_version:
                old_predictions.setdefault(p.task, []).append(p)
            else:
                other_versions.add(p.task)
    _refuse_legacy_work(existing, {d.id for d in docs}, proj.id)
    to_create: list[dict[str, Any]] = []
    to_predict: list[dict[str, Any]] = []
    to_replace: list[int] = []
    c = session.client
    for doc, task in zip(docs, new_tasks_all):
        old = existing.get(doc.id)
        if old is None:
            to_create.append(task)
            continue
        report.tasks_existing += 1
        tid = old["id"]
        annotations = old.get("annotations") or []
        if old["data"].get(TEXT_FIELD) != doc.text:
            if annotations:
                raise VnreorgError(
                    "the document text changed but its task is already annotated: offsets would drift; "
                    "pull first, or push the changed document to a new project",
                    f"task {tid} doc={doc.id}",
                )
            with api_errors(f"update the text of task {tid}", session.url):
                c.tasks.update(str(tid), data=task_data(doc))
            report.tasks_text_updated += 1
        elif old["data"].get(OFFSET_FIELD) != OFFSET_UNIT:
            with api_errors(f"record the offset rule on task {tid}", session.url):
                c.tasks.update(str(tid), data=task_data(doc))
            report.tasks_marked += 1
        if annotate and (doc.spans or doc.relations):
            if any(not a.get("was_cancelled") for a in annotations):
                report.annotations_kept.append(doc.id)
            else:
                with api_errors(f"add the gold annotation to task {tid}", session.url):
                    c.annotations.create(id=tid, result=result_items(doc, doc.spans, doc.relations))
                report.annotations_created += 1
        if doc.id in preds_by_id:
            if tid in old_predictions:
                to_replace.append(tid)
            to_predict.append({**prediction_body(preds_by_id[doc.id], model_version), "task": tid})
    _delete_predictions(session, proj.id, to_replace, old_predictions, other_versions, report)
    for start in range(0, len(to_create), IMPORT_BATCH):
        batch = to_create[start : start + IMPORT_BATCH]
        with api_errors(f"import {len(batch)} task(s)", session.url):
            r = c.projects.import_tasks(id=proj.id, request=batch, return_task_ids=True)
        report.tasks_created += r.task_count or len(batch)
        report.annotations_created += r.annotation_count or 0
        report.predictions_created += r.prediction_count or 0
    for start in range(0, len(to_predict), IMPORT_BATCH):
        batch = to_predict[start : start + IMPORT_BATCH]
        with api_errors(f"import {len(batch)} prediction(s)", session.url):
            c.projects.import_predictions(id=proj.id, request=batch)
        report.predictions_created += len(batch)
    if predictions:
        # Show this model version's predictions to annotators as pre-annotations.
        with api_errors("select the model version for pre-annotations", session.url):
            c.projects.update(proj.id, model_version=model_version, show_collab_predictions=True)
    return report


def _refuse_legacy_work(existing: dict[str, dict[str, Any]], pushing: set[str], project_id: int) -> None:
    """Refuse, before any change, to mix offset rules in one task: a task pushed under the old UTF-16 rule
    whose text has characters outside the BMP and that holds annotations or predictions."""
    for doc_id in sorted(pushing & existing.keys()):
        task = existing[doc_id]
        data = task.get("data") or {}
        if data.get(OFFSET_FIELD) == OFFSET_UNIT:
            continue
        try:
            legacy = task_offset_unit(data) == LEGACY_UNIT
        except ValueError as exc:
            raise VnreorgError(str(exc), f"project {project_id} task {task['id']} doc={doc_id}") from None
        if legacy and (task.get("annotations") or task.get("predictions")):
            raise VnreorgError(
                "this task was pushed under the old UTF-16 offset rule and holds annotations or predictions that the "
                "browser (which counts code points) draws shifted after an emoji; nothing was pushed. Pull first "
                "(`vnreorg annotate pull` reads them, converted), then delete the task in Label Studio and push again",
                f"project {project_id} task {task['id']} doc={doc_id}",
            )


def _delete_predictions(
    session: LabelStudioSession,
    project_id: int,
    tasks: list[int],
    old: dict[int, list[Any]],
    other_versions: set[int],
    report: PushReport,
) -> None:
    """Remove this model version's earlier predictions on the re-pushed tasks.

    One bulk action when those tasks hold no other version's predictions (it clears a task's predictions
    of every version); otherwise one call per prediction (slow: ~0.1-0.2 s each), keeping other versions."""
    if not tasks:
        return
    bulk = [t for t in tasks if t not in other_versions]
    if bulk:
        with api_errors(f"delete the earlier predictions of {len(bulk)} task(s)", session.url):
            session.client.actions.create(
                id="delete_tasks_predictions", project=project_id, selected_items={"all": False, "included": bulk}
            )
    for tid in tasks:
        if tid in other_versions:
            for p in old[tid]:
                with api_errors(f"replace prediction {p.id}", session.url):
                    session.client.predictions.delete(p.id)
        report.predictions_replaced += len(old[tid])
