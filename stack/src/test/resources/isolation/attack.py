# An attacker's workspace (BERTH_TEMPLATE=command): serves HTTP on the port it is given and, on
# GET /attack?cfg=<base64url JSON>, tries from inside its slot what a workspace user must never
# manage, then answers what each try gave. IsolationEndToEndTest reads the answer.
import base64, json, os, socket, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs

PORT = int(sys.argv[1])


def read(path):
    try:
        with open(path, 'rb') as f:
            return 'READ:' + f.read(4096).decode('latin-1')
    except Exception as e:
        return 'DENIED:' + type(e).__name__


def listdir(path):
    try:
        return 'LISTED:' + ','.join(sorted(os.listdir(path)))
    except Exception as e:
        return 'DENIED:' + type(e).__name__


def redis_write(port):
    # SET berth:pwned 1, as an unauthenticated client would send it.
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=3)
        s.sendall(b'*3\r\n$3\r\nSET\r\n$11\r\nberth:pwned\r\n$1\r\n1\r\n')
        reply = s.recv(200).decode('latin-1')
        s.close()
        return reply.strip()
    except Exception as e:
        return 'ERROR:' + type(e).__name__


def temporal_terminate(port):
    # TerminateWorkflowExecution{namespace: "default", workflow_execution: {workflow_id: "capacity"}}
    msg = b'\x0a\x07default\x12\x0a\x0a\x08capacity'
    frame = b'\x00' + len(msg).to_bytes(4, 'big') + msg
    try:
        r = subprocess.run(['curl', '-s', '--http2-prior-knowledge', '-o', '/dev/null', '-D', '-', '--max-time', '10',
                            '-H', 'content-type: application/grpc', '-H', 'te: trailers', '--data-binary', '@-',
                            'http://127.0.0.1:%d/temporal.api.workflowservice.v1.WorkflowService/TerminateWorkflowExecution' % port],
                           input=frame, capture_output=True, timeout=15)
        return r.stdout.decode('latin-1') + r.stderr.decode('latin-1') + ' exit=%d' % r.returncode
    except Exception as e:
        return 'ERROR:' + type(e).__name__


def http_get(port, path, host, headers):
    try:
        s = socket.create_connection(('127.0.0.1', port), timeout=5)
        req = 'GET %s HTTP/1.1\r\nHost: %s\r\n' % (path, host)
        for k, v in headers.items():
            req += '%s: %s\r\n' % (k, v)
        s.sendall((req + 'Connection: close\r\n\r\n').encode('latin-1'))
        data = b''
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        return data.decode('latin-1').split('\r\n\r\n')[0]
    except Exception as e:
        return 'ERROR:' + type(e).__name__


def attack(cfg):
    out = {'uid': os.getuid(), 'gid': os.getgid(), 'groups': os.getgroups()}
    out['files'] = {p: read(p) for p in cfg['files']}
    out['dirs'] = {p: listdir(p) for p in cfg['dirs']}
    out['redis'] = redis_write(cfg['redisPort'])
    out['temporal'] = temporal_terminate(cfg['temporalPort'])
    out['neighbour'] = http_get(cfg['victimPort'], '/healthz', '127.0.0.1', {})
    out['self'] = http_get(PORT, '/healthz', '127.0.0.1', {})
    out['gateway'] = {p: http_get(cfg['apiPort'], p, cfg['victimHost'], {'X-Berth-Routing': 'dynamic'})
                      for p in ['/api/gateway/auth', '/api/gateway/route', '/api/gateway/launch?t=x']}
    return out


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        u = urlparse(self.path)
        if u.path == '/healthz':
            body = b'ok'
        elif u.path == '/attack':
            cfg = json.loads(base64.urlsafe_b64decode(parse_qs(u.query)['cfg'][0]))
            body = json.dumps(attack(cfg)).encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(('127.0.0.1', PORT), Handler).serve_forever()
