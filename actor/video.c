/*
 * video.c — MP4 writer (see video.h): swscale converts RGB24 to yuv420p, the H.264 encoder's
 * packets go through libavformat's MP4 muxer with pts counted in frames.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswscale/swscale.h>

#include "actor/video.h"

struct video {
    AVFormatContext *fmt;
    AVCodecContext *enc;
    AVStream *st;
    struct SwsContext *sws;
    AVFrame *frame;
    AVPacket *pkt;
    int w, h;
    long frames;
    bool header; /* the header was written: close must write the trailer */
};

// hand every packet the encoder has ready to the muxer; 0 or -EIO
static int drain(struct video *v)
{
    for (;;) {
        int rc = avcodec_receive_packet(v->enc, v->pkt);
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
            return 0;
        if (rc < 0)
            return -EIO;
        if (v->pkt->duration == 0)
            v->pkt->duration = 1; /* one frame: else the MP4's edit list drops the last one */
        av_packet_rescale_ts(v->pkt, v->enc->time_base, v->st->time_base);
        v->pkt->stream_index = v->st->index;
        rc = av_interleaved_write_frame(v->fmt, v->pkt);
        av_packet_unref(v->pkt);
        if (rc < 0)
            return -EIO;
    }
}

// the H.264 encoder context for w x h at fps; NULL with err set
static AVCodecContext *encoder_open(struct video *v, int fps, char *err, size_t errlen)
{
    const AVCodec *codec = avcodec_find_encoder_by_name("libx264");
    if (!codec)
        codec = avcodec_find_encoder(AV_CODEC_ID_H264);
    AVCodecContext *enc = codec ? avcodec_alloc_context3(codec) : NULL;
    if (!enc) {
        snprintf(err, errlen, "no H.264 encoder in this libavcodec");
        return NULL;
    }
    enc->width = v->w;
    enc->height = v->h;
    enc->pix_fmt = AV_PIX_FMT_YUV420P;
    enc->time_base = (AVRational){1, fps};
    enc->framerate = (AVRational){fps, 1};
    enc->gop_size = 2 * fps;
    enc->thread_count = 1; /* one core: the machine's other work keeps the rest */
    if (v->fmt->oformat->flags & AVFMT_GLOBALHEADER)
        enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    av_opt_set(enc->priv_data, "preset", "veryfast", 0);
    av_opt_set(enc->priv_data, "crf", "23", 0);
    if (avcodec_open2(enc, codec, NULL) < 0) {
        snprintf(err, errlen, "cannot open the H.264 encoder (%s) at %dx%d", codec->name, v->w,
                 v->h);
        avcodec_free_context(&enc);
    }
    return enc;
}

// everything but the file: muxer, stream, encoder, converter, frame; 0 or -1 with err set
static int video_setup(struct video *v, const char *path, int fps, char *err, size_t errlen)
{
    if (avformat_alloc_output_context2(&v->fmt, NULL, "mp4", path) < 0 || !v->fmt) {
        snprintf(err, errlen, "no MP4 muxer in this libavformat");
        return -1;
    }
    if (!(v->enc = encoder_open(v, fps, err, errlen)))
        return -1;
    v->st = avformat_new_stream(v->fmt, NULL);
    v->frame = av_frame_alloc();
    v->pkt = av_packet_alloc();
    v->sws = sws_getContext(v->w, v->h, AV_PIX_FMT_RGB24, v->w, v->h, AV_PIX_FMT_YUV420P,
                            SWS_BILINEAR, NULL, NULL, NULL);
    if (!v->st || !v->frame || !v->pkt || !v->sws ||
        avcodec_parameters_from_context(v->st->codecpar, v->enc) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    v->st->time_base = v->enc->time_base;
    v->frame->format = AV_PIX_FMT_YUV420P;
    v->frame->width = v->w;
    v->frame->height = v->h;
    if (av_frame_get_buffer(v->frame, 0) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static void video_free(struct video *v)
{
    if (v->fmt && v->fmt->pb)
        avio_closep(&v->fmt->pb);
    avformat_free_context(v->fmt);
    avcodec_free_context(&v->enc);
    sws_freeContext(v->sws);
    av_frame_free(&v->frame);
    av_packet_free(&v->pkt);
    free(v);
}

struct video *video_open(const char *path, int width, int height, int fps, char *err, size_t errlen)
{
    if (width < 2 || height < 2 || width > 4096 || height > 4096 || (width | height) & 1) {
        snprintf(err, errlen, "video size %dx%d: width and height must be even, 2..4096", width,
                 height);
        return NULL;
    }
    if (fps < 1 || fps > 240) {
        snprintf(err, errlen, "video rate %d frames/s: must be 1..240", fps);
        return NULL;
    }
    struct video *v = calloc(1, sizeof(*v));
    if (!v) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    v->w = width;
    v->h = height;
    av_log_set_level(AV_LOG_ERROR);
    if (video_setup(v, path, fps, err, errlen) < 0)
        goto err_free;
    int rc = avio_open(&v->fmt->pb, path, AVIO_FLAG_WRITE);
    if (rc < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, av_err2str(rc));
        goto err_free;
    }
    if (avformat_write_header(v->fmt, NULL) < 0) {
        snprintf(err, errlen, "cannot write the MP4 header to %s", path);
        goto err_free;
    }
    v->header = true;
    return v;
err_free:
    video_free(v);
    return NULL;
}

int video_write(struct video *v, const uint8_t *rgb)
{
    if (av_frame_make_writable(v->frame) < 0)
        return -EIO;
    const uint8_t *src[1] = {rgb};
    const int stride[1] = {3 * v->w};
    sws_scale(v->sws, src, stride, 0, v->h, v->frame->data, v->frame->linesize);
    v->frame->pts = v->frames;
    if (avcodec_send_frame(v->enc, v->frame) < 0)
        return -EIO;
    v->frames++;
    return drain(v);
}

int video_close(struct video **pv)
{
    if (!pv || !*pv)
        return 0;
    struct video *v = *pv;
    int rc = 0;
    if (v->header) {
        /* a NULL frame puts the encoder in draining mode: the delayed packets come out */
        if (avcodec_send_frame(v->enc, NULL) < 0 || drain(v) < 0)
            rc = -EIO;
        if (av_write_trailer(v->fmt) < 0)
            rc = -EIO;
    }
    video_free(v);
    *pv = NULL;
    return rc;
}
