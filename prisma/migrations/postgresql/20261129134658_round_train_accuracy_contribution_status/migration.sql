-- AlterTable
ALTER TABLE "Round" ADD COLUMN     "trainAccuracy" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "Contribution" ADD COLUMN     "status" TEXT NOT NULL DEFAULT 'accepted';
