#!/usr/bin/env bash
# Installs the Kafka test peer: the broker's runtime classpath (org.apache.kafka:kafka_2.13 with a
# log4j2 backend and a pinned slf4j, see scripts/peers/kafka/pom.xml) fetched from Maven Central
# with maven-dependency-plugin into "$VPP_EXPORTER_CACHE/kafka/<version>/libs", plus the log4j2
# config beside it. Maven's local repository is "$VPP_EXPORTER_CACHE/m2". Java 17+ runs it
# (Kafka 4.x brokers need 17). Idempotent: done once per pom.xml/log4j2.properties content; a
# broker is started by the tests (test/helpers/kafka.ts), never here.
# The last line printed on stdout is the install folder (holding libs/ and log4j2.properties).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

src="$here/kafka"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$src/pom.xml")
[ -n "$version" ] || die "no <kafka.version> in $src/pom.xml"
dir="$VPP_EXPORTER_CACHE/kafka/$version"
stamp="$dir/.installed"
hash=$(cat "$src/pom.xml" "$src/log4j2.properties" | sha256sum | cut -d' ' -f1)

java_major() { java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }
command -v java >/dev/null 2>&1 || die "no java on PATH: Kafka $version needs Java 17+ (on Debian: apt-get install openjdk-17-jre-headless)"
jv=$(java_major)
[ -n "$jv" ] && [ "$jv" -ge 17 ] || die "java on PATH is version ${jv:-unknown}; Kafka $version needs Java 17+"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ] && [ -f "$dir/libs/kafka_2.13-$version.jar" ]; then
  log "Kafka $version is installed in $dir"
else
  command -v mvn >/dev/null 2>&1 || die "no mvn on PATH (needed to fetch Kafka $version from Maven Central; on Debian: apt-get install maven)"
  log "fetching Kafka $version's classpath from Maven Central into $dir/libs"
  start=$(date +%s)
  rm -rf "$dir/libs.tmp" "$stamp"
  mkdir -p "$dir" "$VPP_EXPORTER_CACHE/m2"
  if ! (cd "$src" && mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$VPP_EXPORTER_CACHE/m2" \
      org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$dir/libs.tmp" >"$dir/mvn.log" 2>&1); then
    sed 's/\x1b\[[0-9;]*m//g' "$dir/mvn.log" | tail -40 >&2
    die "mvn copy-dependencies for org.apache.kafka:kafka_2.13:$version failed (is Maven Central reachable? log: $dir/mvn.log)"
  fi
  [ -f "$dir/libs.tmp/kafka_2.13-$version.jar" ] || die "kafka_2.13-$version.jar missing after mvn copy-dependencies"
  rm -rf "$dir/libs"
  mv "$dir/libs.tmp" "$dir/libs"
  cp "$src/log4j2.properties" "$dir/log4j2.properties"
  # The classpath must run: StorageTool is what the tests call first.
  java -cp "$dir/libs/*" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.tools.StorageTool random-uuid >/dev/null \
    || die "kafka.tools.StorageTool does not run from $dir/libs"
  echo "$hash" > "$stamp"
  log "Kafka $version installed in $(( $(date +%s) - start ))s ($(ls "$dir/libs" | wc -l) jars)"
fi
echo "$dir"
