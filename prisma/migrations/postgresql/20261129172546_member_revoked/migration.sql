-- AlterTable
ALTER TABLE "Member" ADD COLUMN     "revokedAt" TIMESTAMP(3);
