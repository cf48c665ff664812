-- AlterTable
ALTER TABLE "Member" ADD COLUMN "leftAt" DATETIME;
