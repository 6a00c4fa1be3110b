// studyhost: drop the study's MongoDB database before a restore.
db.getSiblingDB("admin").auth(process.env.MONGO_INITDB_ROOT_USERNAME, process.env.MONGO_INITDB_ROOT_PASSWORD);
db.getSiblingDB(process.env.STUDYHOST_MONGO_DATABASE).dropDatabase();
