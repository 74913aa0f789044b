# The Berth worker: workflows and activities on task queue `berth`. Built from the repository root:
#   docker build -f docker/worker.Dockerfile .
# In docker-compose.yml it runs beside the nginx service (external Nginx mode).
# Needs BERTH_TEMPORAL_TARGET (it refuses to start without one: the image carries no Temporal of its
# own) and BERTH_REDIS_URL at run time.

FROM maven:3.9.9-eclipse-temurin-17 AS build
WORKDIR /build
COPY . .
RUN --mount=type=cache,target=/root/.m2 mvn -B -DskipTests package -pl worker -am

FROM eclipse-temurin:17.0.13_11-jre
# nginx: in external mode the worker still runs `nginx -t` (BERTH_NGINX_BIN, /usr/sbin/nginx) on
# the shared config and route files, and `nginx -s reload` (BERTH_NGINX_RELOAD) to signal the
# gateway's master; it never starts an Nginx of its own.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx \
 && rm -rf /var/lib/apt/lists/*
# uid 10001: the nginx service runs as the same uid, so the worker may signal it.
RUN groupadd --gid 10001 berth \
 && useradd --uid 10001 --gid 10001 --home-dir /var/lib/berth --no-create-home --shell /usr/sbin/nologin berth \
 && install -d -o berth -g berth /var/lib/berth /etc/nginx/berth-routes /run/berth-nginx
COPY docker/nginx/nginx.conf /etc/nginx/nginx.conf
COPY docker/worker-logback.xml /opt/berth/logback.xml
COPY --from=build /build/worker/target/lib/ /opt/berth/lib/
COPY --from=build /build/worker/target/berth-worker-*.jar /opt/berth/berth-worker.jar
USER berth
WORKDIR /var/lib/berth
ENV BERTH_STATE_DIR=/var/lib/berth \
    BERTH_NGINX_MODE=external \
    BERTH_NGINX_ROUTES_DIR=/etc/nginx/berth-routes
ENTRYPOINT ["java", "-Dlogback.configurationFile=/opt/berth/logback.xml", "-cp", "/opt/berth/berth-worker.jar:/opt/berth/lib/*", "io.berth.worker.Main"]
