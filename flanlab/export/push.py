"""``flanlab export ... --push REPO_ID``: an exported folder to the Hugging Face hub as one commit, so a failed push
leaves the repository as it was. Offline or without a token it stops with one line before anything is sent."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import CommitOperationAdd, HfApi, constants, get_token

from flanlab.errors import FlanlabError


def check_can_push(repo_id: str) -> str:
    """The token to push with; a one-line error when the hub is switched off or no token is set."""
    if constants.is_offline_mode():
        raise FlanlabError(f"cannot push to {repo_id!r}: the Hugging Face hub is offline (HF_HUB_OFFLINE=1); "
                           "nothing was uploaded")
    token = get_token()
    if not token:
        raise FlanlabError(f"cannot push to {repo_id!r}: no Hugging Face token (run `hf auth login` or set HF_TOKEN); "
                           "nothing was uploaded")
    return token


def folder_files(folder: Path) -> list[str]:
    """Every file under ``folder`` as a POSIX path relative to it, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def push_folder(folder: str | Path, repo_id: str, *, private: bool = False, api: HfApi | None = None) -> str:
    """Create ``repo_id`` (if needed) and upload every file of ``folder`` in one commit; return the commit's URL."""
    folder = Path(folder)
    token = check_can_push(repo_id)
    api = api or HfApi(token=token)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name))
                  for name in folder_files(folder)]
    try:
        api.create_repo(repo_id, private=private, exist_ok=True)
        info = api.create_commit(repo_id, operations=operations,
                                 commit_message=f"flanlab export of {folder.name} ({len(operations)} files)")
    except Exception as err:  # the hub's HTTP errors, connection errors: one line; the commit is all or nothing
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise FlanlabError(f"push to {repo_id!r} failed: {first}; no file was uploaded") from None
    return str(getattr(info, "commit_url", info))
