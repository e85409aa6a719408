"""`sales-agent voice train`: build or version a voice profile from videos, audio, newsletters and sample files."""

from __future__ import annotations

from pathlib import Path

import typer
from tqdm import tqdm

from cli.runtime import print_json, services, user_errors
from core.auth.actor import SYSTEM
from core.integrations.youtube import YouTubeTranscripts
from core.voice.training import SAMPLE_SUFFIXES, SourceResult, analyze_samples, collect_samples, save_trained_profile

app = typer.Typer(no_args_is_help=True)


@app.command("train")
def train(
    videos: list[str] = typer.Option(None, "--videos", help="YouTube URLs or ids (repeat the option)."),
    samples: Path = typer.Option(None, "--samples", exists=True, file_okay=False,
                                 help="Folder of .txt/.md/.html/.eml files."),
    newsletters: str = typer.Option(None, "--newsletters",
                                    help="Search HubSpot marketing emails by name or subject; each match is a sample."),
    audio: list[Path] = typer.Option(None, "--audio", exists=True, dir_okay=False,
                                     help="Audio files to transcribe (e.g. a video without captions; repeat)."),
    profile_name: str = typer.Option(..., "--profile-name", help="Profile to create or add a version to."),
    language: str = typer.Option("en", "--language", help="Language of the samples (en, es, de, fr)."),
    as_json: bool = typer.Option(False, "--json", help="Print the analysis as JSON."),
) -> None:
    """Analyse the samples and create (or version) a voice profile."""
    files = sorted(p for p in samples.iterdir() if p.suffix.lower() in SAMPLE_SUFFIXES) if samples else []
    videos = list(videos or [])
    audio = list(audio or [])
    if not files and not videos and not audio and newsletters is None:
        typer.secho("error: give --videos, --audio, --newsletters and/or --samples with at least one sample file",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    svc = services()
    lines: list[str] = []
    total = len(files) + len(videos) + len(audio) + (1 if newsletters is not None else 0)
    with tqdm(total=total, desc="voice samples", unit="source", disable=as_json) as bar:

        def report(result: SourceResult) -> None:
            lines.append(f"{'✅' if result.ok else '❌'} {result.source}: {result.detail}")
            if bar.total is not None and bar.n >= bar.total:  # a newsletter search can yield several samples
                bar.total += 1
            bar.update(1)

        collected, results = collect_samples(files=files, videos=videos, transcripts=YouTubeTranscripts().transcript,
                                             audio=[(str(p), p.read_bytes()) for p in audio],
                                             transcriber=svc.connectors.get("transcriber"),
                                             newsletters=newsletters, crm=svc.connectors.get("hubspot"),
                                             progress=report)
    for line in lines:
        typer.echo(line)
    with user_errors():
        analysis = analyze_samples(collected, svc.llm)
        profile = save_trained_profile(svc, actor=SYSTEM, name=profile_name, analysis=analysis, language=language)
    if as_json:
        print_json({"profile": profile.model_dump(mode="json"), "analysis": analysis.model_dump(mode="json"),
                    "sources": [r.__dict__ for r in results]})
        return
    typer.echo(f"Voice profile {profile.name!r} is at version {profile.version}: tone {analysis.tone.value}, "
               f"formality {analysis.formality}, {analysis.average_sentence_length} words per sentence, "
               f"readability {analysis.readability}.")
