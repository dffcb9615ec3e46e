#!/usr/bin/env bash
# Standalone smoke check of the ts-ocpp interop harness (central_system.js).
#
#  1. starts a tiny Python http.server playing the charge point's SOAP endpoint
#     (PORT2, free port), which prints every request it receives;
#  2. starts the harness (free port, chosen by the OS via --port 0);
#  3. POSTs a hand-written SOAP 1.2 BootNotification with curl, advertising
#     wsa:From http://127.0.0.1:PORT2/, and shows the response;
#  4. sends RemoteStartTransaction (and ChangeConfiguration) through the
#     harness' stdin command, without a "url": ts-ocpp must call PORT2, which
#     prints the raw XML ts-ocpp sent;
#  5. validates that XML against the official OCPP 1.5 schema (needs lxml);
#  6. closes stdin and checks the harness exits 0.
#
# Usage: bash tests/interop/tsocpp/test_harness_smoke.sh     (exit 0 = pass)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WSDL_CP="${WSDL_CP:-$HERE/../../../../shared/spec/wsdl/ocpp_chargepointservice_1.5_final.wsdl}"
[ -f "$WSDL_CP" ] || WSDL_CP=/work/shared/spec/wsdl/ocpp_chargepointservice_1.5_final.wsdl
PYTHON="${PYTHON:-python3}"

command -v node >/dev/null || { echo "node not found" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl not found" >&2; exit 1; }
if [ ! -d "$HERE/node_modules/@voltbras/ts-ocpp" ]; then
  echo "== node_modules missing: npm ci"
  (cd "$HERE" && npm ci --no-audit --no-fund)
fi

TMP="$(mktemp -d)"
HARNESS_PID=""
CP_PID=""
cleanup() {
  exec 3>&- 2>/dev/null || true
  [ -n "$HARNESS_PID" ] && kill "$HARNESS_PID" 2>/dev/null || true
  [ -n "$CP_PID" ] && kill "$CP_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

PASSED=0
FAILED=0
ok()   { echo "PASS: $*"; PASSED=$((PASSED + 1)); }
bad()  { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }

# wait_for FILE PATTERN [SECONDS] -> prints first matching line
wait_for() {
  local file="$1" pattern="$2" secs="${3:-15}" i line
  for ((i = 0; i < secs * 20; i++)); do
    if line="$(grep -m1 -E "$pattern" "$file" 2>/dev/null)"; then
      printf '%s\n' "$line"
      return 0
    fi
    sleep 0.05
  done
  return 1
}
json_get() { "$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d.get(sys.argv[2]) if not isinstance(d.get(sys.argv[2]), (dict, list)) else json.dumps(d.get(sys.argv[2])))' "$1" "$2"; }

# --- 1. fake charge point endpoint -----------------------------------------
cat > "$TMP/cp_server.py" <<'PY'
import http.server, re, sys
class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8", "replace")
        print(">>> %s %s" % (self.command, self.path))
        for k, v in self.headers.items():
            print(">>> %s: %s" % (k, v))
        print(body)
        print("<<< end of request")
        sys.stdout.flush()
        m = re.search(r"<(?:[\w.-]+:)?(\w+)Request\b", body)
        op = m.group(1) if m else "unknown"
        out = ('<?xml version="1.0" encoding="utf-8"?>'
               '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">'
               '<s:Header><a:Action>/%sResponse</a:Action></s:Header>'
               '<s:Body><%sResponse xmlns="urn://Ocpp/Cp/2012/06/"><status>Accepted</status></%sResponse></s:Body>'
               '</s:Envelope>') % (op[:1].upper() + op[1:], op, op)
        data = out.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/soap+xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % srv.server_address[1]); sys.stdout.flush()
srv.serve_forever()
PY
"$PYTHON" -u "$TMP/cp_server.py" > "$TMP/cp.out" 2>&1 &
CP_PID=$!
PORT2="$(wait_for "$TMP/cp.out" '^PORT [0-9]+' 10 | awk '{print $2}')" || { cat "$TMP/cp.out"; echo "cp server did not start"; exit 1; }
echo "== fake charge point endpoint on http://127.0.0.1:$PORT2/"

# --- 2. the harness ----------------------------------------------------------
mkfifo "$TMP/harness.in"
node "$HERE/central_system.js" --port 0 < "$TMP/harness.in" > "$TMP/harness.out" 2> "$TMP/harness.err" &
HARNESS_PID=$!
exec 3> "$TMP/harness.in"    # keep stdin open; closing fd 3 = EOF for the harness
LISTENING="$(wait_for "$TMP/harness.out" '"event":"listening"' 15)" || { cat "$TMP/harness.err"; echo "harness did not start"; exit 1; }
echo "== harness: $LISTENING"
PORT="$(json_get "$LISTENING" port)"
SOAP_PATH="$(json_get "$LISTENING" path)"

# --- 3. BootNotification via curl -------------------------------------------
cat > "$TMP/boot.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"
               xmlns:wsa="http://www.w3.org/2005/08/addressing"
               xmlns:cs="urn://Ocpp/Cs/2012/06/">
  <soap:Header>
    <cs:chargeBoxIdentity>CB1</cs:chargeBoxIdentity>
    <wsa:Action soap:mustUnderstand="true">/BootNotification</wsa:Action>
    <wsa:MessageID>urn:uuid:5f1c4c1e-7d7a-4a8e-9a55-0c3d2b1a0001</wsa:MessageID>
    <wsa:To soap:mustUnderstand="true">http://127.0.0.1:$PORT$SOAP_PATH</wsa:To>
    <wsa:From><wsa:Address>http://127.0.0.1:$PORT2/</wsa:Address></wsa:From>
    <wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>
  </soap:Header>
  <soap:Body>
    <cs:bootNotificationRequest>
      <cs:chargePointVendor>Acme</cs:chargePointVendor>
      <cs:chargePointModel>Box-1</cs:chargePointModel>
      <cs:chargePointSerialNumber>SN-0001</cs:chargePointSerialNumber>
      <cs:firmwareVersion>0.1.0</cs:firmwareVersion>
    </cs:bootNotificationRequest>
  </soap:Body>
</soap:Envelope>
XML
echo "== POST BootNotification to http://127.0.0.1:$PORT$SOAP_PATH"
HTTP_CODE="$(curl -sS -o "$TMP/boot.resp" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/soap+xml; charset=utf-8' \
  --data-binary @"$TMP/boot.xml" "http://127.0.0.1:$PORT$SOAP_PATH")"
echo "HTTP $HTTP_CODE"
cat "$TMP/boot.resp"; echo
if [ "$HTTP_CODE" = 200 ] && grep -q '<status>Accepted</status>' "$TMP/boot.resp" \
   && grep -q '<heartbeatInterval>300</heartbeatInterval>' "$TMP/boot.resp" \
   && grep -q 'RelatesTo[^>]*>urn:uuid:5f1c4c1e-7d7a-4a8e-9a55-0c3d2b1a0001<' "$TMP/boot.resp"; then
  ok "BootNotification answered Accepted, heartbeatInterval 300, RelatesTo our MessageID"
else
  bad "BootNotification response"
fi
REQ_LINE="$(wait_for "$TMP/harness.out" '"event":"request".*"BootNotification"' 5)" || REQ_LINE=""
echo "harness: $REQ_LINE"
echo "harness: $(wait_for "$TMP/harness.out" '"event":"response".*"BootNotification"' 5 || true)"
if [ -n "$REQ_LINE" ] && echo "$REQ_LINE" | grep -q "\"from\":\"http://127.0.0.1:$PORT2/\"" \
   && echo "$REQ_LINE" | grep -q '"chargeBoxId":"CB1"' \
   && echo "$REQ_LINE" | grep -q '"chargePointVendor":"Acme"'; then
  ok "harness reported the request with payload and From address"
else
  bad "harness request event"
fi

# --- 4. CS -> CP operations via stdin ---------------------------------------
send_cmd() { printf '%s\n' "$1" >&3; }

send_cmd '{"id":1,"cmd":"send","chargeBoxId":"CB1","action":"RemoteStartTransaction","payload":{"idTag":"TAG0001","connectorId":1}}'
RES1="$(wait_for "$TMP/harness.out" '"event":"result","id":1,' 30)" || RES1=""
wait_for "$TMP/cp.out" 'remoteStartTransactionRequest' 5 >/dev/null || true
echo "== what arrived at the charge point endpoint (port $PORT2):"
sed -n '/^>>> POST/,/^<<< end of request/p' "$TMP/cp.out"
echo "== harness result: $RES1"
if echo "$RES1" | grep -q '"ok":true' && echo "$RES1" | grep -q '"status":"Accepted"'; then
  ok "RemoteStartTransaction sent to the From address and answered Accepted"
else
  bad "RemoteStartTransaction result"
fi
if grep -q '<remoteStartTransactionRequest xmlns="urn://Ocpp/Cp/2012/06/"><idTag>TAG0001</idTag><connectorId>1</connectorId>' "$TMP/cp.out" \
   && grep -q 'chargeBoxIdentity[^>]*>CB1<' "$TMP/cp.out"; then
  ok "charge point endpoint received remoteStartTransactionRequest with chargeBoxIdentity CB1"
else
  bad "raw RemoteStartTransaction request at the charge point"
fi

send_cmd '{"id":2,"cmd":"send","chargeBoxId":"CB1","action":"ChangeConfiguration","payload":{"key":"HeartbeatInterval","value":"60"}}'
RES2="$(wait_for "$TMP/harness.out" '"event":"result","id":2,' 30)" || RES2=""
echo "== harness result: $RES2"
if echo "$RES2" | grep -q '"ok":true' && grep -q '<changeConfigurationRequest' "$TMP/cp.out"; then
  ok "ChangeConfiguration sent and answered"
else
  bad "ChangeConfiguration"
fi

# --- 5. schema validation of what ts-ocpp sent -------------------------------
if "$PYTHON" -c 'import lxml' 2>/dev/null && [ -f "$WSDL_CP" ]; then
  if "$PYTHON" - "$TMP/cp.out" "$WSDL_CP" <<'PY'
import re, sys
from lxml import etree
XS = "http://www.w3.org/2001/XMLSchema"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
schema_el = etree.parse(sys.argv[2]).find(".//{%s}schema" % XS)
schema = etree.XMLSchema(etree.fromstring(etree.tostring(schema_el)))
text = open(sys.argv[1], encoding="utf-8").read()
bad = 0
for xml in re.findall(r"(<\?xml.*?</soap:Envelope>)", text, re.S):
    env = etree.fromstring(xml.encode())
    for part in ("Header", "Body"):
        for child in env.find("{%s}%s" % (SOAP12, part)):
            if child.tag.startswith("{http://www.w3.org/2005/08/addressing}"):
                continue
            doc = etree.ElementTree(etree.fromstring(etree.tostring(child)))
            name = etree.QName(child).localname
            if schema.validate(doc):
                print("schema OK:", name)
            else:
                bad += 1
                print("schema INVALID:", name, [e.message for e in schema.error_log])
sys.exit(1 if bad else 0)
PY
  then ok "requests sent by ts-ocpp validate against the official OCPP 1.5 ChargePointService schema"
  else bad "schema validation"
  fi
else
  echo "SKIP: schema validation (needs python lxml and $WSDL_CP)"
fi

# --- 6. clean exit on stdin EOF ----------------------------------------------
exec 3>&-
RC=0
for ((i = 0; i < 100; i++)); do
  kill -0 "$HARNESS_PID" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$HARNESS_PID" 2>/dev/null; then
  bad "harness still running 5 s after stdin EOF"
else
  wait "$HARNESS_PID" || RC=$?
  HARNESS_PID=""
  if [ "$RC" = 0 ]; then ok "harness exited 0 on stdin EOF"; else bad "harness exit code $RC"; fi
fi
if [ -s "$TMP/harness.err" ]; then
  echo "== harness stderr:"; cat "$TMP/harness.err"
fi

echo "smoke: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
