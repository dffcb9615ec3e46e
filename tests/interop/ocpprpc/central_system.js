// Interop harness: an OCPP 1.6 JSON Central System on ocpp-rpc's RPCServer in strict mode (every
// message both ways validated against the 1.6 JSON schemas ocpp-rpc ships). Talks to its parent over
// JSON lines: events on stdout, commands on stdin. See README.md.
"use strict";

const readline = require("readline");
const { RPCServer, createRPCError } = require("ocpp-rpc");

function option(name, fallback) {
    const at = process.argv.indexOf(name);
    return at >= 0 ? process.argv[at + 1] : fallback;
}

const port = Number(option("--port", "0"));
const password = option("--password", null);
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const clients = new Map();

const server = new RPCServer({ protocols: ["ocpp1.6"], strictMode: true, respondWithDetailedErrors: true });

server.auth((accept, reject, handshake) => {
    const given = handshake.password === undefined ? null : handshake.password.toString("utf8");
    emit({ event: "handshake", identity: handshake.identity, password_given: given !== null,
           protocols: [...handshake.protocols] });
    if (password !== null && given !== password) {
        reject(401, "Unauthorized");
        return;
    }
    accept();
});

const now = () => new Date().toISOString();
const ANSWERS = {
    BootNotification: () => ({ status: "Accepted", currentTime: now(), interval: 300 }),
    Heartbeat: () => ({ currentTime: now() }),
    Authorize: ({ idTag }) => ({ idTagInfo: { status: idTag === "GOOD" ? "Accepted" : "Invalid" } }),
    StatusNotification: () => ({}),
};

server.on("client", (client) => {
    clients.set(client.identity, client);
    emit({ event: "connected", identity: client.identity, protocol: client.protocol });
    client.handle(({ method, params }) => {
        emit({ event: "request", identity: client.identity, action: method, payload: params });
        const answer = ANSWERS[method];
        if (answer === undefined) {
            throw createRPCError("NotImplemented", `${method} is not served by this harness`);
        }
        return answer(params);
    });
    client.on("badMessage", ({ error }) => emit({ event: "badMessage", identity: client.identity,
                                                    error: String(error && error.message) }));
    client.on("close", ({ code }) => {
        if (clients.get(client.identity) === client) clients.delete(client.identity);
        emit({ event: "closed", identity: client.identity, code });
    });
});

// Commands: {"id":1,"cmd":"call","identity":"CP1","action":"Reset","payload":{...}}
//           {"id":2,"cmd":"drop","identity":"CP1"}
async function run(command) {
    const client = clients.get(command.identity);
    if (client === undefined) throw new Error(`no client ${command.identity}`);
    if (command.cmd === "call") {
        return await client.call(command.action, command.payload ?? {});
    }
    if (command.cmd === "drop") {
        await client.close({ code: 1001, force: true });
        return {};
    }
    throw new Error(`unknown command ${command.cmd}`);
}

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
    let command;
    try {
        command = JSON.parse(line);
    } catch (err) {
        emit({ event: "error", error: `bad command: ${err.message}` });
        return;
    }
    try {
        emit({ event: "result", id: command.id, ok: true, payload: await run(command) });
    } catch (err) {
        emit({ event: "result", id: command.id, ok: false, code: err.rpcErrorCode ?? null, error: err.message });
    }
}).on("close", () => process.exit(0));

server.listen(port, "127.0.0.1").then((http) => {
    emit({ event: "listening", port: http.address().port });
}).catch((err) => {
    emit({ event: "error", error: err.message });
    process.exit(1);
});
