// studyhost's demo study (src/local/demo-app/wsgi.py) run as a WSGI app under the machine's python3
// with SQLite: it answers, saves a participant's answers, refuses bad ones and lists them. (Booted
// behind nginx and gunicorn on a real host by test/e2e/local-demo.e2e.ts.)
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEMO_APP_DIR } from "../../src/local/demoApp";

test("the demo app answers, saves a participant's answers, refuses bad ones and lists them (Python, SQLite)", () => {
  const db = join(mkdtempSync(join(tmpdir(), "studyhost-demo-")), "study.sqlite3");
  const py = `
import io, json, sys
sys.path.insert(0, sys.argv[1])
import wsgi
def call(method, path, body=b""):
  seen = {}
  def start(status, headers): seen["status"] = status
  env = {"PATH_INFO": path, "REQUEST_METHOD": method, "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
  out = b"".join(wsgi.app(env, start)).decode()
  return seen["status"].split()[0], out
print(json.dumps([call("GET", "/healthz"), call("GET", "/")[0], call("POST", "/answers", b"sleep=7&mood=4")[0], call("POST", "/answers", b"sleep=7&mood=9"), call("GET", "/admin/answers")]))
`;
  const r = spawnSync("python3", ["-c", py, DEMO_APP_DIR], { encoding: "utf8", env: { ...process.env, DATABASE_URL: `sqlite:///${db}` } });
  expect(r.stderr).toBe("");
  const [health, form, saved, refused, listed] = JSON.parse(r.stdout);
  expect([health, form, saved]).toEqual([["200", "ok\n"], "200", "201"]);
  expect(refused).toEqual(["400", expect.stringContaining("needs a whole number from 1 to 5")]);
  expect(listed[0]).toBe("200");
  expect(JSON.parse(listed[1])).toEqual([{ id: 1, answeredAt: expect.any(String), sleep: 7, mood: 4 }]);
});
