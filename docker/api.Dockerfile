# The Berth API (Micronaut): REST, JWT, heartbeats. Built from the repository root:
#   docker build -f docker/api.Dockerfile .
# Needs BERTH_JWT_SECRET (32+ bytes), BERTH_TEMPORAL_TARGET and BERTH_REDIS_URL at run time.

FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /build
COPY . .
RUN --mount=type=cache,target=/root/.m2 mvn -B -DskipTests package -pl api -am

FROM eclipse-temurin:17.0.13_11-jre
# curl for the health check
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 berth \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/berth --no-create-home --shell /usr/sbin/nologin berth \
 && install -d -o berth -g berth /var/lib/berth
COPY --from=build /build/api/target/lib/ /opt/berth/lib/
COPY --from=build /build/api/target/berth-api-*.jar /opt/berth/berth-api.jar
USER berth
WORKDIR /var/lib/berth
# In a container the API must listen on every interface (its default is 127.0.0.1).
ENV BERTH_API_HOST=0.0.0.0 \
    BERTH_API_PORT=8080 \
    BERTH_STATE_DIR=/var/lib/berth
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${BERTH_API_PORT}/health" || exit 1
ENTRYPOINT ["java", "-cp", "/opt/berth/berth-api.jar:/opt/berth/lib/*", "io.berth.api.Application"]
