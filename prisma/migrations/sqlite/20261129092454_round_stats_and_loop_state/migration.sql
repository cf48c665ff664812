-- AlterTable
ALTER TABLE "Checkpoint" ADD COLUMN "loopState" TEXT;
ALTER TABLE "Checkpoint" ADD COLUMN "optimizerState" BLOB;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Round" (
    "runId" TEXT NOT NULL,
    "number" INTEGER NOT NULL,
    "participants" INTEGER NOT NULL,
    "samples" INTEGER NOT NULL,
    "loss" REAL,
    "accuracy" REAL,
    "trainLoss" REAL,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "late" INTEGER NOT NULL DEFAULT 0,
    "dropped" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "bytesIn" INTEGER NOT NULL DEFAULT 0,
    "bytesOut" INTEGER NOT NULL DEFAULT 0,
    "aggregationMs" REAL NOT NULL DEFAULT 0,
    "evalMs" REAL NOT NULL DEFAULT 0,
    "hyperparams" TEXT NOT NULL DEFAULT '{}',
    "startedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME NOT NULL,

    PRIMARY KEY ("runId", "number"),
    CONSTRAINT "Round_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_Round" ("accuracy", "finishedAt", "loss", "number", "participants", "runId", "samples", "startedAt", "trainLoss") SELECT "accuracy", "finishedAt", "loss", "number", "participants", "runId", "samples", "startedAt", "trainLoss" FROM "Round";
DROP TABLE "Round";
ALTER TABLE "new_Round" RENAME TO "Round";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
