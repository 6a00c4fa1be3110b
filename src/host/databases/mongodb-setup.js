// studyhost: the app user of the study's MongoDB database (created or updated; idempotent).
const admin = db.getSiblingDB("admin");
admin.auth(process.env.MONGO_INITDB_ROOT_USERNAME, process.env.MONGO_INITDB_ROOT_PASSWORD);
const target = db.getSiblingDB(process.env.STUDYHOST_MONGO_DATABASE);
const user = process.env.STUDYHOST_MONGO_APP_USER;
const spec = { pwd: process.env.STUDYHOST_MONGO_APP_PASSWORD, roles: [{ role: "readWrite", db: target.getName() }] };
if (target.getUser(user)) {
  target.updateUser(user, spec);
} else {
  target.createUser(Object.assign({ user: user }, spec));
}
