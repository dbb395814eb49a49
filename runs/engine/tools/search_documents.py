"""``search_documents``: BM25+-ranked search over a document collection.

A collection is a folder: each ``.md`` or ``.txt`` file is one document, and each line of a
``.log`` file is one (so a log search returns the lines that matter). Shipped collections live
in ``data/documents/``; an operator adds folders by name in ``settings["document_collections"]``.
An index is built once per collection and rebuilt when a file in it changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from rank_bm25 import BM25Plus

from ..interfaces import ToolContext
from .builtin_tools import registry
from .paths import named, shipped
from .registry import ToolFailure

_WORD = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
_STOPWORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from",
        "how", "i", "in", "is", "it", "its", "my", "of", "on", "or", "so", "that", "the", "their",
        "this", "to", "was", "what", "when", "where", "which", "who", "why", "will", "with", "you",
        "your",
    }
)  # fmt: skip
SNIPPET_CHARS = 320
MAX_DOCUMENT_CHARS = 200_000


class SearchArgs(BaseModel):
    query: str = Field(min_length=1, max_length=500, description="Words to search for.")
    collection: str = Field(
        "research",
        max_length=64,
        description="Collection: 'research' (articles), 'product_docs', 'support_logs'.",
    )
    limit: int = Field(5, ge=1, le=20)


@dataclass(frozen=True)
class Document:
    source: str  # file name, with ":line" for a log line
    title: str
    text: str


@registry.tool(
    "search_documents",
    "Search a document collection and get the best-matching documents (BM25 ranking) with "
    "title, source, score and a snippet.",
    timeout_s=20,
    in_pool=True,
)
def search_documents(args: SearchArgs, context: ToolContext) -> dict[str, Any]:
    folder = named(
        "document collection",
        args.collection,
        shipped("documents"),
        context.settings.get("document_collections") or {},
    )
    documents, vocabularies, index = _index(folder, _signature(folder))
    terms = tokens(args.query)
    if not terms:
        raise ToolFailure("The query has no searchable words; use a few specific terms.")
    scores = index.get_scores(terms)
    matching = (i for i, words in enumerate(vocabularies) if words.intersection(terms))
    ranked = sorted(matching, key=lambda i: (-scores[i], i))[: args.limit]
    return {
        "collection": args.collection,
        "query": args.query,
        "results": [
            {
                "source": documents[i].source,
                "title": documents[i].title,
                "score": round(float(scores[i]), 3),
                "snippet": snippet(documents[i].text, terms),
            }
            for i in ranked
        ],
    }


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


def _stem(word: str) -> str:
    # Plural folding only: enough for "pumps" to find "pump" without a stemming dependency.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def snippet(text: str, terms: list[str]) -> str:
    """The passage of ``text`` with the most query terms, whole words, about 320 characters."""
    sentences = re.split(r"(?<=[.!?])\s+|\n{2,}", text)
    wanted = set(terms)
    best = max(sentences, key=lambda s: len(wanted & set(tokens(s))), default="")
    start = text.find(best)
    passage = " ".join(text[start : start + SNIPPET_CHARS].split())
    return passage if len(passage) < SNIPPET_CHARS else passage.rsplit(" ", 1)[0] + " ..."


def _signature(folder: Path) -> tuple[tuple[str, float, int], ...]:
    if not folder.is_dir():
        raise ToolFailure(f"The collection folder {folder.name} is missing.")
    return tuple(
        (p.name, p.stat().st_mtime, p.stat().st_size)
        for p in sorted(folder.iterdir())
        if p.suffix in (".md", ".txt", ".log")
    )


@lru_cache(maxsize=32)
def _index(folder: Path, signature: tuple) -> tuple[list[Document], list[set[str]], BM25Plus]:
    # BM25+ rather than Okapi: its IDF stays positive when a term is in most documents, which
    # in a small collection (or one document) would otherwise rank a match below zero.
    documents = [doc for name, *_ in signature for doc in _read(folder / name)]
    if not documents:
        raise ToolFailure(f"The collection {folder.name} has no documents.")
    corpus = [tokens(f"{d.title} {d.text}") for d in documents]
    return documents, [set(words) for words in corpus], BM25Plus(corpus)


def _read(path: Path) -> list[Document]:
    text = path.read_text(encoding="utf-8", errors="replace")[:MAX_DOCUMENT_CHARS]
    if path.suffix == ".log":
        return [
            Document(f"{path.name}:{number}", line[:80], line)
            for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()
        ]
    heading = next((line for line in text.splitlines() if line.startswith("#")), path.stem)
    return [Document(path.name, heading.lstrip("# ").strip(), text)]
