-- AlterTable
ALTER TABLE "Member" ADD COLUMN     "leftAt" TIMESTAMP(3);
