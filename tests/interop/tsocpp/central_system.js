#!/usr/bin/env node
'use strict';
/*
 * Interop harness: an independent OCPP 1.5 (SOAP) Central System built on
 * @voltbras/ts-ocpp 2.7.3, driven by a parent process over JSON lines.
 *
 *   node central_system.js --port PORT [--host 127.0.0.1] [--raw] [--allow-any-host]
 *
 * stdout (one JSON object per line):
 *   {"event":"listening","port":P,"host":"127.0.0.1","path":"/","url":"http://127.0.0.1:P/"}
 *   {"event":"request","chargeBoxId":..,"action":..,"payload":{..},"ocppVersion":"v1.5-soap",
 *    "from":"http://..."|null,"soapHeaders":{..}}
 *   {"event":"response","chargeBoxId":..,"action":..,"payload":{..}}
 *   {"event":"result","id":..,"ok":true,"payload":{..},"url":..,"rawRequest":"<xml>",..}
 *   {"event":"result","id":..,"ok":false,"error":"..."}
 *   {"event":"raw","direction":"received"|"replied","xml":"..."}      (only with --raw)
 *   {"event":"error","error":"..."}                                    (harness-level problems)
 *
 * stdin (one JSON object per line):
 *   {"id":7,"cmd":"send","chargeBoxId":"CB1","action":"RemoteStartTransaction",
 *    "payload":{"idTag":"ABC"},"url":"http://127.0.0.1:9000/" (optional),"timeoutMs":30000 (optional)}
 *   {"id":8,"cmd":"ping"}                 -> {"event":"result","id":8,"ok":true,"payload":{}}
 *   {"id":9,"cmd":"chargePoints"}         -> payload: {chargeBoxId: lastFromUrl, ...}
 *   {"id":10,"cmd":"setUrl","chargeBoxId":"CB1","url":"http://127.0.0.1:9000/"}
 *   {"id":11,"cmd":"quit"}
 *
 * Exits 0 on stdin EOF, "quit", SIGTERM or SIGINT.
 */

const readline = require('readline');
const net = require('net');
const { URL } = require('url');

// Everything on stdout is protocol: route stray library logging to stderr.
for (const level of ['log', 'info', 'debug', 'warn']) {
  console[level] = (...args) => process.stderr.write(args.map(String).join(' ') + '\n');
}

const soap = require('soap');
const { CentralSystem } = require('@voltbras/ts-ocpp');

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function parseArgs(argv) {
  const opts = { port: null, host: '127.0.0.1', raw: false, allowAnyHost: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port') opts.port = Number(argv[++i]);
    else if (a.startsWith('--port=')) opts.port = Number(a.slice(7));
    else if (a === '--host') opts.host = argv[++i];
    else if (a.startsWith('--host=')) opts.host = a.slice(7);
    else if (a === '--raw') opts.raw = true;
    else if (a === '--allow-any-host') opts.allowAnyHost = true;
    else {
      process.stderr.write(`unknown argument: ${a}\n`);
      process.exit(2);
    }
  }
  if (opts.port === null || !Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    process.stderr.write('usage: node central_system.js --port PORT [--host H] [--raw] [--allow-any-host]\n');
    process.exit(2);
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// ---------------------------------------------------------------------------
// Capture of the raw XML that ts-ocpp's SOAP client (node-soap) sends to a
// charge point. ts-ocpp creates a fresh node-soap client per sendRequest via
// soap.createClientAsync(); it is called synchronously from .run(), so the
// capture object set just before .run() is the one for this send.
// ---------------------------------------------------------------------------
let pendingCapture = null;
const origCreateClientAsync = soap.createClientAsync;
try {
  soap.createClientAsync = function (...args) {
    const capture = pendingCapture;
    pendingCapture = null;
    return origCreateClientAsync.apply(this, args).then((client) => {
      if (capture) {
        capture.endpoint = args[1] && args[1].endpoint;
        client.on('request', (xml) => { capture.rawRequest = xml; });
        client.on('response', (body, response) => {
          capture.rawResponse = body;
          capture.httpRequestHeaders = client.lastRequestHeaders || null;
          if (response) {
            capture.httpStatus = response.statusCode;
          }
        });
        client.on('soapError', (err) => {
          capture.httpRequestHeaders = client.lastRequestHeaders || null;
          if (err && err.response) capture.httpStatus = err.response.statusCode;
          if (err && err.body) capture.rawResponse = err.body;
        });
      }
      return client;
    });
  };
} catch (e) {
  process.stderr.write(`cannot hook soap.createClientAsync (raw capture disabled): ${e}\n`);
}

// ---------------------------------------------------------------------------
// Charge point handler (requests from the box to us)
// ---------------------------------------------------------------------------
let nextTransactionId = 1;
/** chargeBoxId -> last wsa From/ReplyTo address seen */
const knownUrls = {};

function addressOf(hdr) {
  if (hdr === undefined || hdr === null) return null;
  if (typeof hdr === 'string') return hdr.trim() || null;
  if (typeof hdr === 'object') {
    const a = hdr.Address !== undefined ? hdr.Address : hdr.$value;
    if (typeof a === 'string') return a.trim() || null;
    if (a && typeof a === 'object' && typeof a.$value === 'string') return a.$value.trim() || null;
  }
  return null;
}

function findHeader(headers, name) {
  if (!headers || typeof headers !== 'object') return undefined;
  const lname = name.toLowerCase();
  for (const k of Object.keys(headers)) {
    const local = k.includes(':') ? k.split(':').pop() : k;
    if (local.toLowerCase() === lname) return headers[k];
  }
  return undefined;
}

function answer(req) {
  const v16 = req.ocppVersion === 'v1.6-json';
  const now = new Date().toISOString();
  switch (req.action) {
    case 'BootNotification':
      return v16
        ? { status: 'Accepted', currentTime: now, interval: 300 }
        : { status: 'Accepted', currentTime: now, heartbeatInterval: 300 };
    case 'Heartbeat':
      return { currentTime: now };
    case 'Authorize':
      return { idTagInfo: { status: 'Accepted' } };
    case 'StartTransaction':
      return { transactionId: nextTransactionId++, idTagInfo: { status: 'Accepted' } };
    case 'StopTransaction':
      return { idTagInfo: { status: 'Accepted' } };
    case 'StatusNotification':
    case 'MeterValues':
    case 'FirmwareStatusNotification':
    case 'DiagnosticsStatusNotification':
      return {};
    case 'DataTransfer': {
      const res = { status: 'Accepted' };
      if (req.data !== undefined && req.data !== null) res.data = req.data;
      return res;
    }
    default:
      throw new Error(`harness: unsupported action ${req.action}`);
  }
}

async function cpHandler(req, metadata) {
  const { action, ocppVersion, ...payload } = req;
  const chargeBoxId = metadata.chargePointId;
  const httpRequest = metadata.httpRequest;
  const soapHeaders = (httpRequest && httpRequest.__ocppSoapHeaders) || null;
  let from = null;
  if (soapHeaders) {
    // OCPP 1.5 says the CS calls back the address in wsa:From; ReplyTo as fallback.
    from = addressOf(findHeader(soapHeaders, 'From')) || addressOf(findHeader(soapHeaders, 'ReplyTo'));
    if (from && from !== 'http://www.w3.org/2005/08/addressing/anonymous') {
      knownUrls[chargeBoxId] = from;
    }
  }
  const ev = { event: 'request', chargeBoxId, action, payload, ocppVersion };
  if (ocppVersion === 'v1.5-soap') {
    ev.from = from;
    ev.soapHeaders = soapHeaders;
  }
  if (metadata.validationError) ev.validationError = String(metadata.validationError.message || metadata.validationError);
  emit(ev);
  let res;
  try {
    res = answer(req);
  } catch (e) {
    emit({ event: 'response', chargeBoxId, action, error: String(e.message || e) });
    throw e;
  }
  emit({ event: 'response', chargeBoxId, action, payload: res });
  return { action, ocppVersion, ...res };
}

const rawOptions = opts.raw
  ? { onRawSoapData: (type, data) => emit({ event: 'raw', direction: type, xml: String(data) }) }
  : {};

const cs = new CentralSystem(opts.port, cpHandler, { host: opts.host, ...rawOptions });

// ts-ocpp does not pass the SOAP headers to the handler (only chargeBoxIdentity
// as chargePointId). Wrap node-soap's service methods so the parsed headers are
// attached to the http request object, which ts-ocpp does pass on.
try {
  const port = cs.soapServer.services.CentralSystemService.CentralSystemServiceSoap12;
  for (const name of Object.keys(port)) {
    const orig = port[name];
    port[name] = function (args, cb, headers, req, ...rest) {
      if (req) req.__ocppSoapHeaders = headers || null;
      return orig.call(this, args, cb, headers, req, ...rest);
    };
  }
} catch (e) {
  emit({ event: 'error', error: `cannot hook SOAP services (From tracking disabled): ${e}` });
}

// node-soap only answers POSTs to exactly "/" and silently leaves any other
// path hanging (no response at all). It keeps 'request' listeners that exist
// when its WSDL finishes loading (next tick) as the fallback for other paths,
// so install one that answers 404 quickly instead of hanging the test.
function notFoundFallback(req, res) {
  res.statusCode = 404;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(`harness: ts-ocpp serves OCPP 1.5 SOAP only at path "/", not ${req.url}\n`);
}
cs.httpServer.on('request', notFoundFallback);

cs.httpServer.on('error', (err) => {
  emit({ event: 'error', error: `http server: ${err.message || err}` });
  process.exit(1);
});

// ---------------------------------------------------------------------------
// Readiness: node-soap installs its HTTP 'request' listener only once the
// WSDL is parsed (asynchronously), so wait for both listen() and that.
// ---------------------------------------------------------------------------
function waitReady() {
  const deadline = Date.now() + 15000;
  return new Promise((resolve, reject) => {
    const tick = () => {
      const listeners = cs.httpServer.listeners('request');
      // ready once node-soap has replaced our fallback with its own listener
      if (cs.httpServer.listening && listeners.length > 0 && !listeners.includes(notFoundFallback)) return resolve();
      if (Date.now() > deadline) return reject(new Error('timed out waiting for SOAP server'));
      setTimeout(tick, 5);
    };
    tick();
  });
}

// ---------------------------------------------------------------------------
// Commands from the parent
// ---------------------------------------------------------------------------
function isLoopbackHost(hostname) {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/** Best-effort summary of a SOAP 1.2 / 1.1 Fault in a raw response body. */
function parseFault(xml) {
  if (typeof xml !== 'string' || !/<(?:[\w.-]+:)?Fault[\s>]/.test(xml)) return null;
  const text = (re) => { const m = xml.match(re); return m ? m[1].trim() : undefined; };
  const values = [...xml.matchAll(/<(?:[\w.-]+:)?Value>([^<]*)<\/(?:[\w.-]+:)?Value>/g)].map((m) => m[1].trim());
  const fault = {
    code: values[0] !== undefined ? values[0] : text(/<faultcode>([^<]*)<\/faultcode>/),
    subcode: values[1],
    reason: text(/<(?:[\w.-]+:)?Text\b[^>]*>([^<]*)<\/(?:[\w.-]+:)?Text>/) || text(/<faultstring>([^<]*)<\/faultstring>/),
  };
  for (const k of Object.keys(fault)) if (fault[k] === undefined) delete fault[k];
  return fault;
}

function errorText(err) {
  if (err === undefined || err === null) return 'unknown error';
  if (typeof err === 'string') return err;
  const parts = [];
  if (err.name) parts.push(err.name);
  parts.push(err.message !== undefined ? err.message : String(err));
  if (err.errorCode) parts.push(`errorCode=${err.errorCode}`);
  return parts.join(': ');
}

async function doSend(cmd) {
  const chargeBoxId = cmd.chargeBoxId;
  const action = cmd.action;
  if (!chargeBoxId) throw new Error('chargeBoxId is required');
  if (!action) throw new Error('action is required');
  const url = cmd.url || knownUrls[chargeBoxId];
  if (!url) {
    throw new Error(`no URL known for charge box ${JSON.stringify(chargeBoxId)}: it has not sent a request with a wsa From/ReplyTo address; pass "url"`);
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch (e) {
    throw new Error(`invalid charge point URL ${JSON.stringify(url)}`);
  }
  if (!opts.allowAnyHost && !isLoopbackHost(parsed.hostname)) {
    throw new Error(`refusing to send to non-loopback URL ${url} (start with --allow-any-host to permit)`);
  }
  const capture = {};
  const ea = cs.sendRequest({
    ocppVersion: 'v1.5-soap',
    chargePointUrl: url,
    chargePointId: chargeBoxId,
    action,
    payload: cmd.payload || {},
  });
  pendingCapture = capture;
  let run;
  try {
    run = ea.run();
  } finally {
    pendingCapture = null;
  }
  const timeoutMs = Number(cmd.timeoutMs || 30000);
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const either = await Promise.race([run, timeout]);
  clearTimeout(timer);
  const extra = { url };
  if (capture.rawRequest !== undefined) extra.rawRequest = capture.rawRequest;
  if (capture.httpRequestHeaders) extra.httpRequestHeaders = capture.httpRequestHeaders;
  if (capture.rawResponse !== undefined) extra.rawResponse = capture.rawResponse;
  if (capture.httpStatus !== undefined) extra.httpStatus = capture.httpStatus;
  if (either === 'timeout') {
    return { ok: false, error: `timed out after ${timeoutMs} ms waiting for the charge point`, ...extra };
  }
  if (either.isRight()) {
    const payload = either.extract();
    return { ok: true, payload: payload === null || payload === undefined ? {} : payload, ...extra };
  }
  const fault = parseFault(capture.rawResponse);
  if (fault) extra.fault = fault;
  return { ok: false, error: errorText(either.extract()), ...extra };
}

let shuttingDown = false;
function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  const force = setTimeout(() => process.exit(code), 1000);
  force.unref();
  try {
    // close() waits for keep-alive sockets; don't wait for them beyond the timer.
    if (typeof cs.httpServer.closeAllConnections === 'function') {
      setImmediate(() => cs.httpServer.closeAllConnections());
    }
    cs.close().then(() => process.exit(code), () => process.exit(code));
  } catch (e) {
    process.exit(code);
  }
}

async function handleLine(line) {
  line = line.trim();
  if (!line) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    emit({ event: 'error', error: `bad JSON on stdin: ${e.message}`, line });
    return;
  }
  const id = cmd.id === undefined ? null : cmd.id;
  try {
    switch (cmd.cmd) {
      case 'send': {
        const r = await doSend(cmd);
        emit({ event: 'result', id, ...r });
        break;
      }
      case 'ping':
        emit({ event: 'result', id, ok: true, payload: {} });
        break;
      case 'chargePoints':
        emit({ event: 'result', id, ok: true, payload: { ...knownUrls } });
        break;
      case 'setUrl':
        if (!cmd.chargeBoxId || !cmd.url) throw new Error('setUrl needs chargeBoxId and url');
        knownUrls[cmd.chargeBoxId] = cmd.url;
        emit({ event: 'result', id, ok: true, payload: {} });
        break;
      case 'quit':
        emit({ event: 'result', id, ok: true, payload: {} });
        shutdown(0);
        break;
      default:
        throw new Error(`unknown cmd ${JSON.stringify(cmd.cmd)}`);
    }
  } catch (e) {
    emit({ event: 'result', id, ok: false, error: errorText(e) });
  }
}

process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('unhandledRejection', (e) => emit({ event: 'error', error: `unhandled rejection: ${errorText(e)}` }));

waitReady().then(() => {
  const addr = cs.httpServer.address();
  const port = addr && typeof addr === 'object' ? addr.port : opts.port;
  const hostForUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  emit({ event: 'listening', port, host: opts.host, path: '/', url: `http://${hostForUrl}:${port}/` });
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  const pending = new Set();
  rl.on('line', (line) => {
    const p = handleLine(line);
    pending.add(p);
    p.finally(() => pending.delete(p));
  });
  // On EOF, let commands already read finish (each send has its own timeout).
  rl.on('close', () => {
    Promise.allSettled([...pending]).then(() => shutdown(0));
  });
}, (err) => {
  emit({ event: 'error', error: errorText(err) });
  process.exit(1);
});
