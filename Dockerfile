# planbot in a container: `docker build -t planbot .` then `docker run -it -v planbot:/var/lib/planbot planbot`
# talks in the terminal; the knowledge base lives on the volume. In Slack:
# `docker run -e SLACK_APP_TOKEN -e SLACK_BOT_TOKEN -v planbot:/var/lib/planbot planbot run --platform slack`
# (Mattermost, IRC and Discord alike, with their variables: README.md)

# Build stage: the same Debian packages as the README's quick start.
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential cmake pkg-config libwebsockets-dev libcjson-dev libcurl4-openssl-dev libssl-dev libsqlite3-dev libcmocka-dev wamerican clang-format python3 openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DPLANBOT_TESTS=OFF \
 && cmake --build build -j"$(nproc)" \
 && strip build/planbot

# Runtime stage: only the shared libraries planbot links, and a user without privileges.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libwebsockets17 libcjson1 libcurl4 libssl3 libsqlite3-0 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --home-dir /var/lib/planbot --create-home --shell /usr/sbin/nologin planbot
COPY --from=build /src/build/planbot /usr/local/bin/planbot
USER planbot
ENV PLANBOT_DB=/var/lib/planbot/planbot.db
VOLUME ["/var/lib/planbot"]
ENTRYPOINT ["planbot"]
