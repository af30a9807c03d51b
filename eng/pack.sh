#!/usr/bin/env bash
# eng/pack.sh: build the NuGet packages into artifacts/packages (Release).
#
#   ./eng/pack.sh [extra dotnet pack args...]
#
# Produces Ws4Net.Protocol, Ws4Net, Ws4Net.Hosting, Ws4Net.AspNetCore, Ws4Net.Amqp and the Ws4Net.Cli tool (command `ws4net`), each as .nupkg with its
# symbols as .snupkg. Install the tool from there with
#   dotnet tool install --global Ws4Net.Cli --add-source artifacts/packages
#
# Environment:
#   WS4NET_PACKAGE_VERSION   package version (default: <Version> of Directory.Build.props)
#   WS4NET_REPOSITORY_URL    repository address written into the packages (default: a placeholder)
#   WS4NET_PACKAGES_DIR      output folder (default: artifacts/packages)
#   CI=true                  ContinuousIntegrationBuild (deterministic paths in the PDBs)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${WS4NET_PACKAGES_DIR:-$REPO_ROOT/artifacts/packages}"
mkdir -p "$OUT"

args=(-c Release -o "$OUT" --nologo)
[[ -n "${WS4NET_PACKAGE_VERSION:-}" ]] && args+=("-p:Version=$WS4NET_PACKAGE_VERSION")
[[ -n "${WS4NET_REPOSITORY_URL:-}" ]] && args+=("-p:Ws4NetRepositoryUrl=$WS4NET_REPOSITORY_URL")

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
# Packing the tool packs its project references' outputs into the tool, not their packages, so each
# library is packed on its own.
for project in src/Ws4Net.Protocol src/Ws4Net src/Ws4Net.Hosting src/Ws4Net.AspNetCore src/Ws4Net.Amqp src/Ws4Net.Cli; do
  echo "[pack.sh] dotnet pack $project"
  dotnet pack "$REPO_ROOT/$project" "${args[@]}" "$@"
done

echo "[pack.sh] packages in $OUT:"
ls -1 "$OUT"
